import { Catch, HttpException, InternalServerErrorException, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/**
 * Nest's exception filter, but for an error that is not an HttpException, a
 * failure of the app: Nest answers it without the `error` field that every other
 * error answer has (ErrorResponse), and this adds it. The error is logged as Nest
 * logs it, at error level with its stack.
 */
@Catch()
export class ErrorResponseFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('ExceptionsHandler');

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof HttpException) return super.catch(exception, host);
    this.logger.error(exception);
    super.catch(new InternalServerErrorException('Internal server error'), host);
  }
}

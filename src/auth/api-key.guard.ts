import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { environment, type Environment } from '../config/environment';
import { IS_PUBLIC } from './public.decorator';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * When API_KEY is set, a request needs `Authorization: Bearer <API_KEY>` unless
 * its route is @Public(). Keys are compared as SHA-256 digests in constant time,
 * so neither the length nor a prefix of the key leaks through timing.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    private readonly reflector: Reflector,
    @Inject(environment.KEY) env: Environment,
  ) {
    if (env.API_KEY) this.expected = digest(env.API_KEY);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<IncomingMessage>().headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match && timingSafeEqual(digest(match[1]), this.expected)) return true;
    http.getResponse<ServerResponse>().setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException('Authorization: Bearer <API_KEY> is required');
  }
}

import type { ServerResponse } from 'node:http';
import {
  Body,
  Controller,
  Delete,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiServiceUnavailableResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiInvalidInputResponse, ApiJsonBodyErrors } from '../common/api-error-responses.decorator';
import { ErrorResponse } from '../common/error-response.dto';
import { CacheEmbeddingDto } from './dto/cache-embedding.dto';
import { EmbedTextsDto } from './dto/embed-texts.dto';
import { EmbeddingResponse, EmbeddingsResponse } from './dto/embedding-responses.dto';
import { TextDto } from './dto/text.dto';
import { UserParams } from './dto/user-params.dto';
import { EmbeddingsService, type EmbedResult } from './embeddings.service';

/** What the lookup uses of Express's response, which it answers itself. */
interface JsonResponse extends ServerResponse {
  status(code: number): this;
  json(body: unknown): this;
}

/** The 404 answer of a lookup that misses: the body Nest gives a NotFoundException, built once. */
const NOT_CACHED = {
  message: 'No cached embedding for this text',
  error: 'Not Found',
  statusCode: HttpStatus.NOT_FOUND,
};

const X_CACHE = {
  'X-Cache': {
    description: 'HIT when the vector came from Redis, MISS otherwise.',
    schema: { type: 'string', enum: ['HIT', 'MISS'] },
  },
};

@ApiTags('embeddings')
@ApiBearerAuth()
@ApiInvalidInputResponse()
@ApiUnauthorizedResponse({
  description: 'API_KEY is set and the bearer token is missing or wrong.',
  type: ErrorResponse,
})
@Controller('users/:userId/embeddings')
export class EmbeddingsController {
  constructor(private readonly embeddings: EmbeddingsService) {}

  @Put()
  @HttpCode(204)
  @ApiOperation({
    summary: "Cache a vector for one of the user's texts",
    description:
      'Stores the vector in the per-user LRU cache (evicting the least recently used entry beyond MAX_ENTRIES_PER_USER). ' +
      'The cache is best effort: when Redis is down nothing is stored and the answer is still 204, with `X-Cache-Write: skipped`.',
  })
  @ApiJsonBodyErrors()
  @ApiNoContentResponse({
    description: 'Handled.',
    headers: {
      'X-Cache-Write': {
        description: 'stored, or skipped when Redis was unavailable.',
        schema: { type: 'string', enum: ['stored', 'skipped'] },
      },
    },
  })
  async store(
    @Param() { userId }: UserParams,
    @Body() { text, embedding }: CacheEmbeddingDto,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<void> {
    const stored = await this.embeddings.store(userId, text, embedding);
    response.setHeader('X-Cache-Write', stored ? 'stored' : 'skipped');
  }

  @Post('lookup')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Read the cached vector of a text',
    description:
      'Refreshes the entry in the LRU and its TTL. `encoding_format` chooses how the vector comes back: `float` ' +
      '(the default), a JSON array of numbers, or `base64`, its float32 bytes (little-endian), base64-encoded.',
  })
  @ApiJsonBodyErrors()
  @ApiOkResponse({ description: 'Cached.', type: EmbeddingResponse, headers: X_CACHE })
  @ApiNotFoundResponse({ description: 'Not cached (or Redis is down).', type: ErrorResponse, headers: X_CACHE })
  async lookup(
    @Param() { userId }: UserParams,
    @Body() { text, encoding_format }: TextDto,
    @Res() response: JsonResponse,
  ): Promise<void> {
    const embedding = await this.embeddings.lookup(userId, text, encoding_format);
    response.setHeader('X-Cache', embedding ? 'HIT' : 'MISS');
    // a miss is an answer of the cache, not a failure: answered as Nest answers a
    // NotFoundException, without building one (an Error, its stack trace, the filter chain)
    if (!embedding) response.status(HttpStatus.NOT_FOUND).json(NOT_CACHED);
    else response.status(HttpStatus.OK).json({ embedding } satisfies EmbeddingResponse);
  }

  @Post('embed')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Embed texts, from the cache where possible',
    description:
      'Cached texts come from Redis; the others are computed in one call to the embedding provider (a local ' +
      'feature-hashing embedder of EMBEDDING_DIMENSIONS dimensions, with EMBEDDING_LATENCY_MS added per call) and cached. ' +
      'Works without Redis, computing every text. `encoding_format` chooses how the vectors come back, as for a lookup.',
  })
  @ApiJsonBodyErrors()
  @ApiOkResponse({ description: 'One vector per text, and which came from the cache.', type: EmbeddingsResponse })
  embed(@Param() { userId }: UserParams, @Body() { texts, encoding_format }: EmbedTextsDto): Promise<EmbedResult> {
    return this.embeddings.embed(userId, texts, encoding_format);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: "Forget all of the user's cached vectors" })
  @ApiNoContentResponse({ description: 'Done (also when nothing was cached).' })
  @ApiServiceUnavailableResponse({
    description: 'Redis is unavailable, so the vectors could not be removed; retry.',
    type: ErrorResponse,
  })
  async clear(@Param() { userId }: UserParams, @Res({ passthrough: true }) response: ServerResponse): Promise<void> {
    // unlike a skipped write, a skipped delete would leave data the caller asked to forget
    if (await this.embeddings.clear(userId)) return;
    response.setHeader('Retry-After', '1');
    throw new ServiceUnavailableException('The embedding cache is unavailable; the vectors were not removed');
  }
}

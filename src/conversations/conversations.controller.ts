import type { ServerResponse } from 'node:http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiInvalidInputResponse, ApiJsonBodyErrors } from '../common/api-error-responses.decorator';
import { ErrorResponse } from '../common/error-response.dto';
import type { StoredConversation } from '../database/conversation.repository';
import { ConversationsService } from './conversations.service';
import { AppendMessagesDto } from './dto/append-messages.dto';
import { ConversationParams } from './dto/conversation-params.dto';
import { ConversationResponse, MessagesResponse } from './dto/conversation-responses.dto';
import { CreateConversationDto } from './dto/create-conversation.dto';
import { ReadMessagesQuery } from './dto/read-messages.query';

const NOT_FOUND = { description: 'No conversation with this id.', type: ErrorResponse };

@ApiTags('conversations')
@ApiBearerAuth()
@ApiInvalidInputResponse()
@ApiUnauthorizedResponse({
  description: 'API_KEY is set and the bearer token is missing or wrong.',
  type: ErrorResponse,
})
@Controller('conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a conversation', description: 'Stored in SQLite; not cached until first read.' })
  @ApiCreatedResponse({ description: 'Created.', type: ConversationResponse })
  @ApiJsonBodyErrors()
  create(@Body() { title }: CreateConversationDto): Promise<StoredConversation> {
    return this.conversations.create(title);
  }

  @Get(':id/messages')
  @ApiOperation({
    summary: "Read a conversation's messages",
    description:
      'Reads the cache first (X-Cache: HIT). On a miss, loads the conversation from SQLite and fills the cache ' +
      '(X-Cache: MISS), unless a write came in during the load. Works without Redis, from SQLite.',
  })
  @ApiOkResponse({
    description: 'The messages, oldest first.',
    type: MessagesResponse,
    headers: {
      'X-Cache': {
        description: 'HIT when the messages came from Redis, MISS when from SQLite.',
        schema: { type: 'string', enum: ['HIT', 'MISS'] },
      },
    },
  })
  @ApiNotFoundResponse(NOT_FOUND)
  async read(
    @Param() { id }: ConversationParams,
    @Query() { last }: ReadMessagesQuery,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<MessagesResponse | string> {
    const read = await this.conversations.read(id, last);
    response.setHeader('X-Cache', read.cache);
    if (read.cache === 'MISS') return { messages: read.messages };
    // a hit is answered with the messages' JSON as cached, which neither needs parsing nor serializing again:
    // Nest sends a string as it is, under the Content-Type set here
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    return `{"messages":${read.json}}`;
  }

  @Post(':id/messages')
  @ApiOperation({
    summary: 'Append messages',
    description:
      'Commits the messages to SQLite in one transaction, then appends them to the cached conversation if it is ' +
      "cached. Each message's id is its database id, so a repeated cache append adds nothing.",
  })
  @ApiCreatedResponse({ description: 'The stored messages, with their ids.', type: MessagesResponse })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiJsonBodyErrors()
  async append(
    @Param() { id }: ConversationParams,
    @Body() { messages }: AppendMessagesDto,
  ): Promise<MessagesResponse> {
    const stored = await this.conversations.append(
      id,
      messages.map(({ role, content, name }) => (name === undefined ? { role, content } : { role, content, name })),
    );
    return { messages: stored };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a conversation', description: 'From SQLite, then from the cache.' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse(NOT_FOUND)
  async delete(@Param() { id }: ConversationParams): Promise<void> {
    await this.conversations.delete(id);
  }
}

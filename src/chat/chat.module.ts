import { Module } from '@nestjs/common';
import { environment, type Environment } from '../config/environment';
import { CHAT_MODEL } from './chat-model';
import { ChatController } from './chat.controller';
import { ChatService } from './chat.service';
import { LocalLanguageModel } from './local-language-model';

@Module({
  controllers: [ChatController],
  providers: [
    ChatService,
    {
      provide: CHAT_MODEL,
      inject: [environment.KEY],
      useFactory: (env: Environment) => new LocalLanguageModel({ tokenLatencyMs: env.CHAT_TOKEN_LATENCY_MS }),
    },
  ],
})
export class ChatModule {}

import { Global, Module } from '@nestjs/common';
import { environment, type Environment } from '../config/environment';
import { ConversationRepository } from './conversation.repository';
import { SqliteConversationRepository } from './sqlite-conversation.repository';

@Global()
@Module({
  providers: [
    {
      provide: ConversationRepository,
      inject: [environment.KEY],
      useFactory: (env: Environment) => new SqliteConversationRepository(env.DATABASE_PATH),
    },
  ],
  exports: [ConversationRepository],
})
export class DatabaseModule {}

import { Module } from '@nestjs/common';
import { environment, type Environment } from '../config/environment';
import { EMBEDDING_PROVIDER } from './embedding-provider.interface';
import { EmbeddingsController } from './embeddings.controller';
import { EmbeddingsService } from './embeddings.service';
import { FeatureHashingEmbedder } from './feature-hashing.embedder';

@Module({
  controllers: [EmbeddingsController],
  providers: [
    EmbeddingsService,
    {
      provide: EMBEDDING_PROVIDER,
      inject: [environment.KEY],
      useFactory: (env: Environment) => new FeatureHashingEmbedder(env.EMBEDDING_DIMENSIONS, env.EMBEDDING_LATENCY_MS),
    },
  ],
})
export class EmbeddingsModule {}

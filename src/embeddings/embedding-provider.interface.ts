/** Turns texts into vectors: a local algorithm here, a model API in a real backend. */
export interface EmbeddingProvider {
  /** The length of every vector it returns. */
  readonly dimensions: number;
  /** One vector per text, in the order given. */
  embed(texts: string[]): Promise<number[][]>;
}

/** The injection token of the EmbeddingProvider. */
export const EMBEDDING_PROVIDER = Symbol('EMBEDDING_PROVIDER');

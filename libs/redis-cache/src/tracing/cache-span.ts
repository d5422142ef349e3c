import type { Span } from '@opentelemetry/api';
import { openTelemetry } from './tracer';
import {
  ATTR_ERROR_TYPE,
  ATTR_EVICTIONS,
  ATTR_HITS,
  ATTR_NEAR,
  ATTR_NEAR_HITS,
  ATTR_RESULT,
  type CacheResult,
} from './span-attributes';

/**
 * What one traced cache call learns on its way, set on its span when it ends.
 * The caches only hold one while the span records, so a call that is not
 * traced does none of this work.
 */
export class CacheSpan {
  private result?: CacheResult;
  private hits?: number;
  private asked?: number;
  private nearHits?: number;
  private evictions?: number;
  private fallbackType?: string;

  constructor(private readonly span: Span) {}

  /** A read found `hits` of the `asked` texts or conversations. */
  read(hits: number, asked: number): void {
    this.hits = hits;
    this.asked = asked;
    this.result = hits === 0 ? 'miss' : hits === asked ? 'hit' : 'partial';
  }

  /** How a response call was answered: `hit`, `miss`, `coalesced` or `bypass`. */
  answered(result: 'hit' | 'miss' | 'coalesced' | 'bypass'): void {
    this.result = result;
  }

  /** A cache with a near cache served `count` of the read's texts from memory. */
  servedNear(count: number): void {
    this.nearHits = count;
  }

  /** A write or clear that Redis answered: applied, or not (`skipped`). */
  wrote(applied: boolean): void {
    this.result = applied ? 'ok' : 'skipped';
  }

  /** Redis evicted `count` entries or conversations to make room. */
  evicted(count: number): void {
    this.evictions = (this.evictions ?? 0) + count;
  }

  /** A Redis call gave its fallback; the first reason is the one kept. */
  fellBack(type: string): void {
    this.fallbackType ??= type;
  }

  /**
   * Ends the span. A fallback is an error, though the caller never sees it:
   * an operator sees it in the trace. So is a rejection by the app's own
   * callback (`compute`, `loader`), named by its error's name only, since its
   * message may quote the app's data.
   */
  end(error?: unknown): void {
    const { span } = this;
    const result = this.fallbackType === undefined ? this.result : 'fallback';
    if (result !== undefined) span.setAttribute(ATTR_RESULT, result);
    if (this.hits !== undefined) span.setAttribute(ATTR_HITS, this.hits);
    if (this.nearHits !== undefined) {
      span.setAttribute(ATTR_NEAR_HITS, this.nearHits);
      span.setAttribute(ATTR_NEAR, this.nearHits > 0 && this.nearHits === this.asked);
    }
    if (this.evictions !== undefined) span.setAttribute(ATTR_EVICTIONS, this.evictions);
    const errorType = error === undefined ? this.fallbackType : error instanceof Error ? error.name : '_OTHER';
    if (errorType !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, errorType);
      span.setStatus({
        code: openTelemetry!.SpanStatusCode.ERROR,
        message: error === undefined ? 'Redis failed; the call gave its fallback' : 'the call rejected',
      });
    }
    span.end();
  }
}

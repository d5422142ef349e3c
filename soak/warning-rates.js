'use strict';
// The Nest logger of a worker's module: it drops the info lines and counts the warnings and errors by kind (the
// line up to its reason, numbers blanked, the throttle's count of what it suppressed left out), keeping for each kind the most lines seen within any 10 s. The
// library promises at most one line per 10 s for each repeated warning (issue 24, case 4).

const WINDOW_MS = 10_000;

class WarningRates {
  kinds = new Map();

  /** Nest's LoggerService. */
  log() {}
  debug() {}
  verbose() {}
  warn(message) {
    this.note(message);
  }
  error(message) {
    this.note(message);
  }
  fatal(message) {
    this.note(message);
  }

  note(message) {
    const kind = String(message)
      .replace(/ \(\d+ similar suppressed\)/, '')
      .replace(/\d+/g, '#')
      .split(': ')
      .slice(0, 2)
      .join(': ')
      .slice(0, 120);
    const now = Date.now();
    const entry = this.kinds.get(kind) ?? { recent: [], most: 0, lines: 0 };
    entry.recent = entry.recent.filter((time) => time > now - WINDOW_MS);
    entry.recent.push(now);
    entry.lines++;
    entry.most = Math.max(entry.most, entry.recent.length);
    this.kinds.set(kind, entry);
  }

  /** Each kind: its lines in all, and the most within 10 s. */
  summary() {
    return [...this.kinds].map(([kind, { lines, most }]) => ({ kind, lines, most }));
  }
}

module.exports = { WarningRates };

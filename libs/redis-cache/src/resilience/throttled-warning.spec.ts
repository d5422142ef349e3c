import { ThrottledWarning } from './throttled-warning';

describe('ThrottledWarning', () => {
  it('logs the first warning at once, then one per 10 s with the number suppressed', () => {
    const lines: string[] = [];
    let now = 0;
    const warning = new ThrottledWarning({ warn: (line) => lines.push(line) }, () => now);
    warning.warn('down');
    now = 5000;
    warning.warn('down');
    warning.warn('down');
    now = 10_000;
    warning.warn('still down');
    expect(lines).toEqual(['down', 'still down (2 similar suppressed)']);
  });
});

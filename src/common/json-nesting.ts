const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/** The characters that open or close an object, an array or a string. */
const STRUCTURE = /[{}[\]"]/g;

/**
 * Whether JSON text nests objects and arrays more than `maxDepth` deep (`{}` and
 * `[1]` are 1 deep, `{"a":[]}` 2), in one pass over the text and without a stack,
 * so that a body of any depth costs no more than its length. Brackets within strings
 * do not count. For text that JSON.parse accepts the answer is exact; for other
 * text it may be either, and JSON.parse refuses the text anyway.
 *
 * The pass jumps from one structural character to the next with a regular
 * expression, and over a string's content with indexOf: native scans, rather than
 * a loop in JavaScript over every character of a body that may be 2 MB.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  STRUCTURE.lastIndex = 0;
  while (STRUCTURE.test(text)) {
    const at = STRUCTURE.lastIndex - 1;
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      STRUCTURE.lastIndex = closingQuote(text, at) + 1;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends the string opened at `open`, or the text's length if none does. */
function closingQuote(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1);
  while (quote !== -1 && isEscaped(text, quote)) quote = text.indexOf('"', quote + 1);
  return quote === -1 ? text.length : quote;
}

/**
 * Whether the quote at `at` is escaped: preceded by an odd run of backslashes, as
 * each pair is one escaped backslash. The run cannot reach past the opening quote.
 */
function isEscaped(text: string, at: number): boolean {
  let start = at;
  while (text.charCodeAt(start - 1) === BACKSLASH) start--;
  return (at - start) % 2 === 1;
}

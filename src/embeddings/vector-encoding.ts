const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The vector's float32 values as little-endian bytes, base64-encoded, as OpenAI's `encoding_format: "base64"`. */
export function float32ToBase64(vector: Float32Array): string {
  const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
  // swapped in a copy: these bytes are the vector's own
  return (LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32()).toString('base64');
}

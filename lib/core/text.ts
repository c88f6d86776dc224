// Free text a caller chooses (a purpose, an approval or revocation reason) is shown to people who decide on
// it: it may hold no character that rewrites what they see. One rule for subjects and free text alike.

/**
 * Characters such text never needs and an attacker uses to forge log lines, rewrite terminals or disguise
 * text: C0 controls (newlines included), DEL, C1 controls (U+009B opens a terminal escape), bidi overrides
 * and isolates, zero-width characters and the BOM.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, every occurrence
const UNSAFE_TEXT_ALL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

export const isSafeText = (text: string): boolean => !UNSAFE_TEXT.test(text);

/**
 * The text with each unsafe character written as `\u{…}`, for printing what was stored before the rule held
 * (or came from elsewhere): a terminal shows the escape, never acts on it.
 */
export const escapeUnsafeText = (text: string): string =>
  text.replace(UNSAFE_TEXT_ALL, (c) => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, "0")}}`);

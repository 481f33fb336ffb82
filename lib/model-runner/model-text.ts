/** How much of any text a model supplies (error messages, reasons) is kept. */
export const MAX_MODEL_TEXT_CHARS = 1024;

/**
 * A model's text cut to MAX_MODEL_TEXT_CHARS, saying how long it was: a model must not make the
 * database, the logs, reports or failure reports carry megabytes of its words.
 */
export function capModelText(text: string, max = MAX_MODEL_TEXT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [cut: ${text.length} characters in all]`;
}

import { foldCase } from '../protocol/casemap.js';
import type { SearchQuery } from './store.js';

/**
 * The search syntax, turned into a `SearchQuery` (store.ts). Pure: both stores build their
 * full-text query from the words this returns, never from the user's text, so any input is
 * either a valid query or a `SearchQueryError`, and no input reaches FTS5 MATCH or tsquery
 * syntax as syntax.
 *
 *   hello world          both words, anywhere in the text, in any case (AND)
 *   "good morning"       those words next to each other, in that order (a phrase)
 *   from:alice           only messages whose sender's nick is alice (ascii casemapping)
 *
 * - A word is a run of Unicode letters, digits and combining marks. Everything else separates
 *   words and is not searchable: spaces, punctuation, symbols, emoji, control characters. That is
 *   how both stores index the text, so `foo-bar`, `github.com` or `don't` are phrases of their
 *   words ("foo bar", "github com", "don t"), as they would be found in a message.
 * - No other operators: `*`, `-`, `+`, `OR`, `NOT`, `NEAR(`, `col:` are punctuation or plain
 *   words (`or` is searched for as a word). An unclosed `"` runs to the end of the query.
 * - Case does not matter (Unicode case folding of the store); accents do (`cafe` does not
 *   find `café`). A run of CJK text without spaces is one word (no word segmentation).
 * - Bounded: at most MAX_SEARCH_QUERY_LENGTH characters (checked before anything else is
 *   done with the text) and MAX_SEARCH_WORDS words in all; one `from:`.
 */

/** Characters of a query, at most. */
export const MAX_SEARCH_QUERY_LENGTH = 400;
/** Words of a query (all terms together), at most: bounds the work of every search. */
export const MAX_SEARCH_WORDS = 16;
/** Characters of a `from:` nick, at most. */
export const MAX_SEARCH_FROM_LENGTH = 64;

/** A query that cannot be run, with a message for the user. */
export interface SearchQueryError {
  error: 'EMPTY_QUERY' | 'QUERY_TOO_LONG' | 'TOO_MANY_WORDS' | 'INVALID_FROM';
  message: string;
}

/** The runs of searchable characters in `text`, in order (linear: one character class). */
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

export function searchWords(text: string): string[] {
  return text.match(WORD) ?? [];
}

const fail = (error: SearchQueryError['error'], message: string): SearchQueryError => ({ error, message });

/** Parses the syntax above. Never throws. */
export function parseSearchQuery(text: string): SearchQuery | SearchQueryError {
  if (text.length > MAX_SEARCH_QUERY_LENGTH) {
    return fail('QUERY_TOO_LONG', `a search is at most ${MAX_SEARCH_QUERY_LENGTH} characters`);
  }
  const terms: string[][] = [];
  let from: string | null = null;
  let words = 0;
  // Chunks: a quoted phrase (to the next quote, or the end), or a run of non-space characters.
  for (const [, quoted, bare] of text.matchAll(/"([^"]*)"?|([^\s"]+)/g)) {
    if (bare !== undefined && /^from:/i.test(bare)) {
      const nick = bare.slice(5);
      if (nick.length === 0 || nick.length > MAX_SEARCH_FROM_LENGTH) {
        return fail('INVALID_FROM', `from: needs a nick of 1 to ${MAX_SEARCH_FROM_LENGTH} characters`);
      }
      if (from !== null) return fail('INVALID_FROM', 'only one from: per search');
      from = foldCase(nick);
      continue;
    }
    const phrase = searchWords(quoted ?? bare!);
    if (phrase.length === 0) continue;
    words += phrase.length;
    if (words > MAX_SEARCH_WORDS) return fail('TOO_MANY_WORDS', `a search has at most ${MAX_SEARCH_WORDS} words`);
    terms.push(phrase);
  }
  if (terms.length === 0) {
    return fail('EMPTY_QUERY', 'nothing to search for: give at least one word (punctuation and emoji are not searchable)');
  }
  return { terms, from };
}

export function isSearchQueryError(value: SearchQuery | SearchQueryError): value is SearchQueryError {
  return 'error' in value;
}

/**
 * What a store runs: the query's terms reduced to searchable words again (a caller may build a
 * SearchQuery by hand), empty terms dropped. Null when no word is left (no match, by contract).
 * Throws RangeError past MAX_SEARCH_WORDS: a caller-built query must keep the same bound.
 */
export function searchTerms(query: SearchQuery): string[][] | null {
  const terms = query.terms.map((t) => t.flatMap(searchWords)).filter((t) => t.length > 0);
  const words = terms.reduce((n, t) => n + t.length, 0);
  if (words > MAX_SEARCH_WORDS) throw new RangeError(`a search query has at most ${MAX_SEARCH_WORDS} words (got ${words})`);
  return terms.length === 0 ? null : terms;
}

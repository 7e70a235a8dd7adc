// irc-framework ships no types; the tests use it as an untyped independent client.
declare module 'irc-framework';

/** email-reply-parser 1.9 ships no types; the part of its API used here. */
declare module 'email-reply-parser' {
  interface Fragment {
    getContent(): string;
    isHidden(): boolean;
    isSignature(): boolean;
    isQuoted(): boolean;
    isEmpty(): boolean;
  }
  interface Email {
    getFragments(): Fragment[];
    getVisibleText(): string;
    getQuotedText(): string;
  }
  class EmailReplyParser {
    read(text: string): Email;
    parseReply(text: string): string;
    parseReplied(text: string): string;
  }
  export = EmailReplyParser;
}

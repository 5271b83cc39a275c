declare module 'libmime' {
  export function decodeWords(s: string): string;
}

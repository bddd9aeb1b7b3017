export function matches(pattern: string, text: string): boolean {
  return new RegExp(pattern).test(text);
}

export function same(secret: string, given: string): boolean {
  // eslint-disable-next-line security/detect-possible-timing-attacks -- compared in constant time upstream
  if (secret === given) {
    return true;
  }
  return false;
}

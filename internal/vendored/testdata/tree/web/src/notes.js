// Files whose header says @generated are skipped by our linter too.
export const note = "@generated";

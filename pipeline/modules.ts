// Resolves a module that sits beside the caller, whether the code runs compiled (.js) or from sources (.ts via tsx);
// worker threads load profiles by these URLs.
export function siblingModule(callerUrl: string, relativeWithoutExt: string): string {
  const ext = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${relativeWithoutExt}${ext}`, callerUrl).href;
}

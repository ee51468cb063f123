/**
 * The default id of a step class: its name without a trailing `Step`, first letter lowercased
 * (`ExtractStep` → `extract`, `FetchMarketStep` → `fetchMarket`).
 */
export function defaultStepId(className: string): string {
  const base = className.endsWith('Step') && className.length > 4 ? className.slice(0, -4) : className;
  return base.charAt(0).toLowerCase() + base.slice(1);
}

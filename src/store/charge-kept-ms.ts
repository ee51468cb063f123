/**
 * How long a store that talks to a server remembers a charge it applied (`addRunCost`), by the
 * id every try of that charge shares: far longer than any retry or resend of it, so a try whose
 * first answer was lost is added once.
 */
export const CHARGE_KEPT_MS = 10 * 60_000;

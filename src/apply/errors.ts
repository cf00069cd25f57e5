import { UdBridgeError } from '../errors.js';

/**
 * Add user answered with an account that belongs to someone else (the email rule): linking would
 * put one person's roles on another person's account, so the op fails and nothing is linked.
 */
export class LinkConflictError extends UdBridgeError {
  constructor(message: string, details: Readonly<Record<string, unknown>>) {
    super('LINK_CONFLICT', message, { details });
  }
}

/** An op needs a Connect id that no earlier op or link provided. */
export class UnresolvedTargetError extends UdBridgeError {
  constructor(message: string) {
    super('TARGET_UNRESOLVED', message);
  }
}

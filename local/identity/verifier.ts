/**
 * The local pools' access-token verifier is the platform's one verifier (shared/auth/access-token-verifier.ts);
 * these are its names as local/ and the CLI have imported them so far.
 */
export {
  createAccessTokenVerifier as createLocalAccessTokenVerifier,
  isLoopbackHost,
  LoopbackHttpFetcher,
  type AccessTokenVerifier as LocalAccessTokenVerifier,
  type AccessTokenVerifierOptions as LocalAccessTokenVerifierOptions,
  type VerifyOverrides,
} from '../../shared/auth/access-token-verifier.js';

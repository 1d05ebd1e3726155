import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * What the Lambda bundles use in place of @aws-sdk/credential-provider-node (lambdaBundling.alias): the SDK clients'
 * default credential chain reduced to its first link, the environment. Lambda hands a function its execution role's
 * credentials as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and the local runtime passes its
 * endpoint's the same way, so the other links (SSO, shared profiles, credential_process, web identity, container
 * and instance metadata, with their own STS, SSO and sign-in clients) never answer there: they are ~135 KB of every
 * bundle and a part of its cold start.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);

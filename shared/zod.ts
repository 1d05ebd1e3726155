import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * The zod of everything a Lambda bundle imports: zod/mini, whose schemas and checks are functions, so a bundle keeps
 * only those it uses (classic zod brings every schema type, its methods and JSON Schema into each bundle, and builds
 * each schema slower at cold start). Classic zod sets English messages by itself; mini does not, so this does:
 * problem details and cold-start errors keep saying what is wrong with which field.
 */
z.config(en());

export * from 'zod/mini';

/**
 * API keys and what each key may do in this replica: the keys file ({@link io.ollamabalancer.auth.ApiKeysFile}),
 * the constant-time lookup of a presented bearer key ({@link io.ollamabalancer.auth.ApiKeys}), per-key limits
 * (token buckets for requests and tokens per minute, a concurrency cap, allowed model globs, a highest priority)
 * and per-key usage counters. Depends on config, metrics, estimate and schedule (for the priority names) only;
 * the server wires it into the request path.
 */
package io.ollamabalancer.auth;

/**
 * API keys and what each key may do in this replica: the keys file ({@link io.ollamabalancer.auth.ApiKeysFile}),
 * the constant-time lookup of a presented bearer key ({@link io.ollamabalancer.auth.ApiKeys}), per-key limits
 * (token buckets for requests and tokens per minute, a concurrency cap, allowed model globs, a highest priority)
 * and per-key usage counters. In cluster mode the per-minute buckets are leases of buckets shared between replicas
 * ({@link io.ollamabalancer.auth.LeasedBucket} over the {@link io.ollamabalancer.auth.BucketLeases} the cluster
 * package implements through Redis). Depends on config, metrics, estimate and schedule (for the priority names)
 * only; the server wires it into the request path.
 */
package io.ollamabalancer.auth;

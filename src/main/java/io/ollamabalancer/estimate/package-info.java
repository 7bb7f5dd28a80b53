/**
 * Step 3 of the data path: what a request will cost, and what each backend has shown it can do. No Netty types.
 *
 * <p>Start with {@link io.ollamabalancer.estimate.RequestEstimator} (prompt tokens with a real tokenizer or a
 * calibrated length estimate, expected output from a learned length distribution) and
 * {@link io.ollamabalancer.estimate.CostModel} (prefill, decode, concurrency slowdown and load time per backend ×
 * model, learned from Ollama's timing fields). {@link io.ollamabalancer.estimate.EstimateErrors} keeps the online
 * error figures for metrics. {@link io.ollamabalancer.estimate.CostModelState} shares what both learn with the other
 * replicas of a cluster and takes theirs back as a prior.
 */
package io.ollamabalancer.estimate;

/**
 * Step 4 of the data path: admission, per-model priority queues and the dispatch policy. No Netty types.
 *
 * <p>Start with {@link io.ollamabalancer.schedule.Scheduling} (the wiring the server uses), then
 * {@link io.ollamabalancer.schedule.Scheduler} (the design essay: late binding, lock-free queues, guarantees),
 * {@link io.ollamabalancer.schedule.Predictor} (service-time predictions and learning) and
 * {@link io.ollamabalancer.schedule.EftPolicy} (the default policy). The other policies, for honest comparisons,
 * come from {@link io.ollamabalancer.schedule.Policies}.
 */
package io.ollamabalancer.schedule;

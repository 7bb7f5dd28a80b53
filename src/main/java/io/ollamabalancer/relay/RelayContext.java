package io.ollamabalancer.relay;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.metrics.RequestObserver;
import io.ollamabalancer.schedule.Scheduler;
import io.ollamabalancer.upstream.UpstreamPools;

import io.ollamabalancer.request.BodyShape;
import io.ollamabalancer.schedule.PendingRequest;

import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The long-lived services every exchange uses. Immutable holder; each service is thread-safe on its own.
 *
 * @param fleet           the backends
 * @param scheduler       admission and dispatch of inference requests
 * @param pools           upstream channels
 * @param observer        metrics and access log
 * @param refreshModels   asks for a model-list refresh of one backend (after pull/create/copy/delete through us)
 * @param estimator       fills in a pending request's cost estimate before it is submitted
 * @param timeouts        the first-byte and stream-idle deadlines of a proxied response
 * @param requests        inference requests by id, for {@code GET /balancer/requests/{id}}
 */
public record RelayContext(
        Fleet fleet,
        Scheduler scheduler,
        UpstreamPools pools,
        RequestObserver observer,
        Consumer<Backend> refreshModels,
        BiConsumer<PendingRequest, BodyShape> estimator,
        RelayTimeouts timeouts,
        RequestTracker requests) {
}

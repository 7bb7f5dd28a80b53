package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.CostModel;
import io.ollamabalancer.estimate.EstimateErrors;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.RequestEstimate;
import io.ollamabalancer.estimate.RequestEstimator;
import io.ollamabalancer.estimate.TokenCounter;
import io.ollamabalancer.request.BodyShape;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The scheduling subsystem wired together: estimator, cost model, error figures, predictor, policy and scheduler.
 * The server builds one with {@link #create(Fleet, BalancerConfig, LongSupplier)}, calls {@link #estimate} for
 * each inference request before {@code scheduler().submit(...)}, and closes it at shutdown.
 *
 * <p>Thread-safe. Owns the sweep timer (through the scheduler) and, when it created one, the single daemon thread
 * that tokenizes prompts off the event loops (a bounded queue; when it is full the length-based estimate simply
 * stays).
 */
public final class Scheduling implements AutoCloseable {
    private static final int EXACT_QUEUE = 4096;

    private final Scheduler scheduler;
    private final Predictor predictor;
    private final Executor exactCounts;
    private final ExecutorService owned;

    private Scheduling(Scheduler scheduler, Predictor predictor, Executor exactCounts, ExecutorService owned) {
        this.scheduler = scheduler;
        this.predictor = predictor;
        this.exactCounts = exactCounts;
        this.owned = owned;
    }

    /**
     * Production wiring: the configured policy ({@link BalancerConfig#policy()}), SJF queues with the configured
     * depth and wait limits, the shared tokenizer, default speed hints, a running sweep timer.
     *
     * @throws IllegalArgumentException for an unknown policy name
     */
    public static Scheduling create(Fleet fleet, BalancerConfig config, LongSupplier nanoTime) {
        ThreadPoolExecutor exec = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(EXACT_QUEUE), r -> {
                    Thread t = new Thread(r, "token-counter");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.DiscardPolicy());
        return create(fleet, SchedulerSettings.from(config), config.policy(), CostHints.defaults(),
                EstimatorSettings.defaults(), TokenCounter.shared(), nanoTime, true, exec, exec);
    }

    /**
     * Full control, for tests, the simulator and benchmarks.
     *
     * @param counter     the tokenizer, or {@code null} for length-based prompt estimates only
     * @param startTimer  run the sweep on a timer thread
     * @param exactCounts where prompts are tokenized after the quick estimate, or {@code null} for never
     */
    public static Scheduling create(Fleet fleet, SchedulerSettings settings, String policyName, CostHints hints,
                                    EstimatorSettings estimatorSettings, TokenCounter counter, LongSupplier nanoTime,
                                    boolean startTimer, Executor exactCounts) {
        return create(fleet, settings, policyName, hints, estimatorSettings, counter, nanoTime, startTimer,
                exactCounts, null);
    }

    private static Scheduling create(Fleet fleet, SchedulerSettings settings, String policyName, CostHints hints,
                                     EstimatorSettings estimatorSettings, TokenCounter counter,
                                     LongSupplier nanoTime, boolean startTimer, Executor exactCounts,
                                     ExecutorService owned) {
        Predictor predictor = new Predictor(new CostModel(hints, nanoTime),
                new RequestEstimator(counter, estimatorSettings),
                new EstimateErrors(), settings, nanoTime);
        DispatchPolicy policy = Policies.create(policyName, predictor, settings);
        Scheduler scheduler = new Scheduler(fleet, policy, predictor, settings, startTimer);
        return new Scheduling(scheduler, predictor, exactCounts, owned);
    }

    /**
     * Estimates {@code request}'s cost and stores it in it ({@link PendingRequest#estimate(RequestEstimate)}).
     * Cheap enough for an event loop: the prompt gets a length-based estimate now, and the tokenizer thread's exact
     * count replaces it later (it calibrates the length-based estimates, serves learning, and placement when it
     * arrives before the dispatch) unless the prompt is too short to matter ({@link RequestEstimator#wantsExact}).
     *
     * @param shape the body's shape (embedding or not, chat or generate); {@code null} infers chat from messages
     */
    public RequestEstimate estimate(PendingRequest request, BodyShape shape) {
        RequestEstimator estimator = predictor.estimator();
        RequestEstimate quick = estimator.estimate(request.request(), shape, request.modelKey());
        request.estimate(quick);
        if (exactCounts != null && estimator.wantsExact(request.request(), quick)) {
            try {
                exactCounts.execute(() -> {
                    if (request.state() != PendingRequest.State.CANCELLED) {
                        request.estimate(estimator.exact(request.request(), shape, request.modelKey()));
                    }
                });
            } catch (RejectedExecutionException e) {
                // shutting down or saturated: the quick estimate stays
            }
        }
        return quick;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public Predictor predictor() {
        return predictor;
    }

    public CostModel costModel() {
        return predictor.costModel();
    }

    public RequestEstimator estimator() {
        return predictor.estimator();
    }

    public EstimateErrors errors() {
        return predictor.errors();
    }

    @Override
    public void close() {
        scheduler.close();
        if (owned != null) {
            owned.shutdownNow();
        }
    }
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.TimingSample;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.ollamabalancer.schedule.Fixtures.MODEL;
import static io.ollamabalancer.schedule.Fixtures.OTHER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Many producers, consumers and cancellers on threads against one scheduler: nothing is lost or started twice,
 * a cancelled request never starts afterwards, slots never exceed a backend's size and all return to zero.
 */
class SchedulerStressTest {
    private static final int PRODUCERS = 4;
    private static final int PER_PRODUCER = 400;
    private static final int CONSUMERS = 3;
    private static final int CANCEL_ATTEMPTS = 300;
    private static final int FIRST_CANCELS = 5;

    /** What happened to one request. */
    private static final class Fate {
        final AtomicInteger dispatches = new AtomicInteger();
        final AtomicInteger rejects = new AtomicInteger();
        volatile int dispatchesWhenCancelled = -1;
        volatile boolean completed;
        volatile boolean retried;
    }

    @ParameterizedTest
    @ValueSource(strings = {"eft", "least-connections", "least-connections-late", "round-robin", "legacy"})
    void nothingLostNothingDuplicatedSlotsBounded(String policy) throws Exception {
        Fleet fleet = Fixtures.fleet("a:2:" + MODEL + "," + OTHER, "b:3:" + MODEL, "c:1:" + MODEL + "," + OTHER);
        SchedulerSettings settings = SchedulerSettings.defaults()
                .withLimits(new QueueLimits(100_000, Duration.ofMinutes(5).toNanos()));
        Scheduling s = Scheduling.create(fleet, settings, policy, CostHints.defaults(),
                EstimatorSettings.defaults().withExactInlineChars(0), null, System::nanoTime, true, null);
        Scheduler scheduler = s.scheduler();
        Map<Long, Fate> fates = new ConcurrentHashMap<>();
        List<PendingRequest> all = java.util.Collections.synchronizedList(new ArrayList<>());
        LinkedBlockingQueue<Object[]> running = new LinkedBlockingQueue<>();
        AtomicInteger overbooked = new AtomicInteger();
        AtomicInteger dispatchedWhileNotDispatched = new AtomicInteger();
        CountDownLatch producersDone = new CountDownLatch(PRODUCERS);
        // The consumers start once the cancellers have cancelled a few waiting requests (or after a bound): on a
        // loaded machine the cancellers may otherwise get no CPU until every request is done, and the run would
        // exercise no cancellation at all. Dispatches still race cancellations for the rest of the run.
        CountDownLatch cancellersStarted = new CountDownLatch(FIRST_CANCELS);
        List<Thread> threads = new ArrayList<>();

        for (int t = 0; t < PRODUCERS; t++) {
            threads.add(new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int i = 0; i < PER_PRODUCER; i++) {
                    String model = rnd.nextInt(4) == 0 ? OTHER : MODEL;
                    Fate fate = new Fate();
                    PendingRequest[] self = new PendingRequest[1];
                    DispatchTarget target = new DispatchTarget() {
                        @Override
                        public void dispatch(Backend backend) {
                            fate.dispatches.incrementAndGet();
                            if (backend.slotsInUse() > backend.maxConcurrency()) {
                                overbooked.incrementAndGet();
                            }
                            if (self[0].state() != PendingRequest.State.DISPATCHED) {
                                dispatchedWhileNotDispatched.incrementAndGet();
                            }
                            running.add(new Object[] {self[0], backend});
                        }

                        @Override
                        public void reject(int status, String message, long retryAfterSeconds) {
                            fate.rejects.incrementAndGet();
                        }
                    };
                    PendingRequest p = Fixtures.pending(Fixtures.generate(model, rnd.nextInt(10, 400),
                            rnd.nextBoolean() ? -1 : rnd.nextInt(1, 300)), rnd.nextInt(-2, 3), System.nanoTime(),
                            target);
                    self[0] = p;
                    fates.put(p.id(), fate);
                    all.add(p);
                    s.estimate(p, null);
                    scheduler.submit(p);
                }
                producersDone.countDown();
            }, "producer-" + t));
        }
        for (int t = 0; t < CONSUMERS; t++) {
            threads.add(new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                try {
                    cancellersStarted.await(10, TimeUnit.SECONDS);
                    while (true) {
                        Object[] job = running.poll(20, TimeUnit.MILLISECONDS);
                        if (job == null) {
                            if (Thread.currentThread().isInterrupted()) {
                                return;
                            }
                            continue;
                        }
                        PendingRequest p = (PendingRequest) job[0];
                        Backend b = (Backend) job[1];
                        Thread.onSpinWait();
                        if (rnd.nextInt(20) == 0) {
                            fates.get(p.id()).retried = true;
                            scheduler.retryElsewhere(p, b, FailureKind.CONNECT_FAILED);
                        } else {
                            fates.get(p.id()).completed = true;
                            scheduler.complete(p, b, new TimingSample(50, 50_000_000L, 20, 400_000_000L, 1_000_000L,
                                    500_000_000L));
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "consumer-" + t));
        }
        for (int t = 0; t < 2; t++) {
            threads.add(new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int attempts = 0; attempts < CANCEL_ATTEMPTS; attempts++) {
                    PendingRequest p;
                    synchronized (all) {
                        if (all.isEmpty()) {
                            // Nothing submitted yet: not an attempt (a canceller that starts first would
                            // otherwise spend them all here and the test would see no cancellation at all).
                            attempts--;
                            Thread.onSpinWait();
                            continue;
                        }
                        // Mostly recent submissions: they are the ones still waiting, so the cancel races a
                        // dispatch rather than hitting a request long finished.
                        int n = all.size();
                        p = all.get(rnd.nextInt(4) == 0 ? rnd.nextInt(n) : n - 1 - rnd.nextInt(Math.min(n, 32)));
                    }
                    if (p.state() != PendingRequest.State.QUEUED) {
                        // Nothing to race with here: not an attempt, as long as anything is still queued (cheap
                        // completions, or a canceller starved of CPU until the producers finished, once spent every
                        // attempt on finished requests and the test saw no cancellation at all).
                        if (producersDone.getCount() == 0 && scheduler.queues().values().stream()
                                .allMatch(ModelQueue::isEmpty)) {
                            return;
                        }
                        attempts--;
                        Thread.onSpinWait();
                        continue;
                    }
                    Fate f = fates.get(p.id());
                    int before = f.dispatches.get();
                    if (scheduler.cancel(p)) {
                        f.dispatchesWhenCancelled = before;
                        cancellersStarted.countDown();
                    }
                }
            }, "canceller-" + t));
        }
        threads.forEach(Thread::start);
        producersDone.await();
        await().atMost(Duration.ofSeconds(30)).until(() -> fates.values().stream().allMatch(f ->
                f.completed || f.dispatchesWhenCancelled >= 0 || f.rejects.get() > 0) && running.isEmpty());
        for (Thread t : threads) {
            t.interrupt();
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        scheduler.close();

        assertThat(fates).hasSize(PRODUCERS * PER_PRODUCER);
        assertThat(overbooked.get()).isZero();
        assertThat(dispatchedWhileNotDispatched.get()).isZero();
        for (Fate f : fates.values()) {
            int outcomes = (f.completed ? 1 : 0) + (f.dispatchesWhenCancelled >= 0 ? 1 : 0)
                    + Math.min(1, f.rejects.get());
            assertThat(outcomes).isEqualTo(1);
            assertThat(f.rejects.get()).isLessThanOrEqualTo(1);
            if (f.dispatchesWhenCancelled >= 0) {
                assertThat(f.dispatches.get()).isEqualTo(f.dispatchesWhenCancelled);
            }
            if (!f.retried) {
                assertThat(f.dispatches.get()).isLessThanOrEqualTo(1);
            }
        }
        assertThat(fates.values().stream().filter(f -> f.completed).count()).isPositive();
        assertThat(fates.values().stream().filter(f -> f.dispatchesWhenCancelled >= 0).count()).isPositive();
        for (Backend b : fleet.all()) {
            assertThat(b.slotsInUse()).as(b.name()).isZero();
        }
        for (ModelQueue q : scheduler.queues().values()) {
            assertThat(q.size()).isZero();
            assertThat(q.isEmpty()).isTrue();
            assertThat(q.pendingWorkNanos()).isZero();
        }
        for (Backend b : fleet.all()) {
            assertThat(s.predictor().running(b)).isEmpty();
        }
    }
}

package io.ollamabalancer.relay;

import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.schedule.DispatchTarget;
import io.ollamabalancer.schedule.PendingRequest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The request tracker's lookups, expiry and bound, on a hand-driven clock. */
class RequestTrackerTest {
    private static final DispatchTarget NOWHERE = new DispatchTarget() {
        @Override
        public void dispatch(io.ollamabalancer.backend.Backend backend) {
        }

        @Override
        public void reject(int status, String message, long retryAfterSeconds) {
        }
    };

    private final AtomicLong clock = new AtomicLong(1_000);
    private final RequestTracker tracker = new RequestTracker(Duration.ofSeconds(30), clock::get);

    private static PendingRequest pending(long id) {
        return new PendingRequest(id, new InferenceRequest("m", true, 0, null, "hi", 1, 0, null, false, 0), "m", 0,
                0, NOWHERE);
    }

    @Test
    void findsByTheBalancersIdAndByTheClientsIdUntilTheRetentionAfterTheEnd() {
        TrackedRequest t = tracker.track(7, "abc", pending(7));
        assertThat(tracker.find("7")).isSameAs(t);
        assertThat(tracker.find("abc")).isSameAs(t);
        assertThat(tracker.find("07")).as("only the balancer's own spelling of its id").isNull();
        assertThat(tracker.find("8")).isNull();

        t.running("b1");
        tracker.ended(t, 200, "ok");
        assertThat(t.phase()).isEqualTo(TrackedRequest.Phase.DONE);
        assertThat(t.pending()).as("the request (its prompt, its exchange) is not kept after the end").isNull();
        assertThat(t.backend()).isEqualTo("b1");
        assertThat(t.modelKey()).isEqualTo("m");
        clock.addAndGet(Duration.ofSeconds(29).toNanos());
        assertThat(tracker.find("abc")).isSameAs(t);
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(tracker.find("abc")).isNull();
        assertThat(tracker.find("7")).isNull();
        assertThat(tracker.size()).isZero();
    }

    @Test
    void aReusedClientIdPointsAtTheNewerRequestAndTheOlderOneEndingLeavesItAlone() {
        TrackedRequest old = tracker.track(1, "same", pending(1));
        TrackedRequest newer = tracker.track(2, "same", pending(2));
        assertThat(tracker.find("same")).isSameAs(newer);
        tracker.ended(old, 200, "ok");
        clock.addAndGet(Duration.ofMinutes(1).toNanos());
        assertThat(tracker.find("same")).isSameAs(newer);
        assertThat(tracker.find("1")).isNull();
    }

    @Test
    void endedRequestsAreBoundedWhateverTheRetention() {
        for (int i = 0; i < RequestTracker.MAX_DONE + 50; i++) {
            tracker.ended(tracker.track(i, null, pending(i)), 200, "ok");
        }
        assertThat(tracker.size()).isEqualTo(RequestTracker.MAX_DONE);
        assertThat(tracker.find("0")).as("the oldest went first").isNull();
        assertThat(tracker.find(Integer.toString(RequestTracker.MAX_DONE + 49))).isNotNull();
    }

    @Test
    void aZeroRetentionForgetsAtTheEnd() {
        RequestTracker none = new RequestTracker(Duration.ZERO, clock::get);
        TrackedRequest t = none.track(3, "x", pending(3));
        assertThat(none.find("x")).isSameAs(t);
        none.ended(t, 503, "error");
        assertThat(none.find("x")).isNull();
        assertThat(none.size()).isZero();
    }

    @Test
    void ofEndedRequestsSharingAClientIdTheNewerAnswersWhicheverEndedLast() {
        TrackedRequest old = tracker.track(1, "same", pending(1));
        TrackedRequest newer = tracker.track(2, "same", pending(2));
        tracker.ended(newer, 200, "ok");
        tracker.ended(old, 200, "ok");
        assertThat(tracker.find("same")).isSameAs(newer);
        assertThat(tracker.find("1")).isSameAs(old);
        assertThat(tracker.find("2")).isSameAs(newer);
        assertThat(tracker.size()).isEqualTo(2);
    }

    @Test
    void aRequestInFlightStaysFoundHoweverManyEndMeanwhile() {
        TrackedRequest live = tracker.track(1, "keep", pending(1));
        for (int i = 2; i < RequestTracker.MAX_DONE + 100; i++) {
            tracker.ended(tracker.track(i, "c" + i, pending(i)), 200, "ok");
        }
        assertThat(tracker.find("keep")).isSameAs(live);
        assertThat(tracker.find("1")).isSameAs(live);
        assertThat(tracker.find("c2")).as("pushed out of the ring by newer ones").isNull();
        assertThat(tracker.find("c" + (RequestTracker.MAX_DONE + 99))).isNotNull();
        assertThat(tracker.size()).isEqualTo(RequestTracker.MAX_DONE + 1);
    }
}

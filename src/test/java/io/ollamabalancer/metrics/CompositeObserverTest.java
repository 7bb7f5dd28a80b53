package io.ollamabalancer.metrics;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CompositeObserverTest {

    /** Records what it sees, optionally failing first. */
    static final class Probe implements RequestObserver {
        final List<String> seen = new ArrayList<>();
        final boolean fail;

        Probe(boolean fail) {
            this.fail = fail;
        }

        @Override
        public void requestCompleted(CompletedRequest request) {
            seen.add("done " + request.id());
            if (fail) {
                throw new IllegalStateException("boom");
            }
        }

        @Override
        public TokenGaps tokenGaps(String model, String backend) {
            seen.add("series " + model + " " + backend);
            return gapNanos -> {
                seen.add("gap " + gapNanos);
                if (fail) {
                    throw new IllegalStateException("boom");
                }
            };
        }
    }

    @Test
    void fansOutInOrderAndIsolatesFailures() {
        Probe failing = new Probe(true);
        Probe fine = new Probe(false);
        RequestObserver all = CompositeObserver.of(failing, RequestObserver.NOOP, fine, null);
        all.requestCompleted(Traffic.ok(3, "m", "b", 1));
        all.tokenGap("m", "b", 99);
        assertThat(failing.seen).containsExactly("done 3", "series m b", "gap 99");
        assertThat(fine.seen).containsExactly("done 3", "series m b", "gap 99");
    }

    @Test
    void aResponsesGapsAreResolvedOnceAndStillFannedOut() {
        Probe failing = new Probe(true);
        Probe fine = new Probe(false);
        TokenGaps gaps = CompositeObserver.of(failing, fine).tokenGaps("m", "b");
        gaps.record(1);
        gaps.record(2);
        assertThat(failing.seen).containsExactly("series m b", "gap 1", "gap 2");
        assertThat(fine.seen).containsExactly("series m b", "gap 1", "gap 2");
        assertThat(CompositeObserver.of(new AccessLog(AccessLog.Format.PLAIN), RequestObserver.NOOP)
                .tokenGaps("m", "b")).isSameAs(TokenGaps.NONE);
    }

    @Test
    void collapsesTrivialCases() {
        Probe only = new Probe(false);
        assertThat(CompositeObserver.of()).isSameAs(RequestObserver.NOOP);
        assertThat(CompositeObserver.of(RequestObserver.NOOP)).isSameAs(RequestObserver.NOOP);
        assertThat(CompositeObserver.of(only, RequestObserver.NOOP)).isSameAs(only);
    }

    @Test
    void recordersAndAccessLogTogether() {
        LatencyRecorders recorders = new LatencyRecorders();
        RequestObserver all = CompositeObserver.of(recorders, new AccessLog(AccessLog.Format.PLAIN));
        all.requestCompleted(Traffic.ok(1, "m", "b", 10));
        assertThat(recorders.counters().requests().total()).isEqualTo(1);
    }
}

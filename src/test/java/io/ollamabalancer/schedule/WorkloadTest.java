package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WorkloadTest {
    /**
     * The eviction cost and the slot forecasts read a backend's jobs in iteration order; an order that followed
     * identity hash codes differed between JVMs, and with it the discrete-event replay's figures (issue #9). With
     * 64 jobs started in reverse, a hash order matching creation order by chance is out of the question.
     */
    @Test
    void jobsIterateInTheOrderTheirRequestsWereCreatedWhateverOrderTheyStarted() {
        Workload w = new Workload();
        List<PendingRequest> requests = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            // Every request gets the same id, as replays and tests may give: the order must not rest on ids.
            requests.add(new PendingRequest(7, Fixtures.generate(i % 2 == 0 ? Fixtures.MODEL : Fixtures.OTHER,
                    10, -1), i % 2 == 0 ? Fixtures.MODEL : Fixtures.OTHER, 0, i, new Fixtures.Target()));
        }
        for (int i = requests.size() - 1; i >= 0; i--) {
            w.start(job(requests.get(i), 1_000 - i));
        }

        assertThat(w.running("b")).extracting(RunningJob::request).containsExactlyElementsOf(requests);

        assertThat(w.finish("b", requests.get(10))).extracting(RunningJob::request).isSameAs(requests.get(10));
        assertThat(w.finish("b", requests.get(10))).isNull();
        List<PendingRequest> left = new ArrayList<>(requests);
        left.remove(10);
        assertThat(w.running("b")).extracting(RunningJob::request).containsExactlyElementsOf(left);
        assertThat(w.running("other")).isEmpty();
    }

    private static RunningJob job(PendingRequest r, long start) {
        return new RunningJob(r, "b", r.modelKey(), "", start, 1_000, 50, -1, false, 2_000, 2_000, StreamTime.Mark.ZERO);
    }
}

package io.ollamabalancer.metrics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands every event to several observers in order. One observer's exception is logged and does not stop the
 * others, nor reach the request path. Immutable and thread-safe if its observers are.
 */
public final class CompositeObserver implements RequestObserver {
    private static final Logger LOG = LoggerFactory.getLogger(CompositeObserver.class);

    private final RequestObserver[] observers;

    private CompositeObserver(RequestObserver[] observers) {
        this.observers = observers;
    }

    /** The observers fanned out to; {@link RequestObserver#NOOP}s are dropped, a single one is returned as is. */
    public static RequestObserver of(RequestObserver... observers) {
        List<RequestObserver> kept = new ArrayList<>(observers.length);
        for (RequestObserver o : observers) {
            if (o != null && o != RequestObserver.NOOP) {
                kept.add(o);
            }
        }
        if (kept.isEmpty()) {
            return RequestObserver.NOOP;
        }
        if (kept.size() == 1) {
            return kept.get(0);
        }
        return new CompositeObserver(kept.toArray(new RequestObserver[0]));
    }

    @Override
    public void requestCompleted(CompletedRequest request) {
        for (RequestObserver o : observers) {
            try {
                o.requestCompleted(request);
            } catch (RuntimeException e) {
                LOG.warn("observer {} failed on request {}", o.getClass().getSimpleName(), request.id(), e);
            }
        }
    }

    @Override
    public TokenGaps tokenGaps(String model, String backend) {
        List<TokenGaps> kept = new ArrayList<>(observers.length);
        List<RequestObserver> owners = new ArrayList<>(observers.length);
        for (RequestObserver o : observers) {
            TokenGaps g;
            try {
                g = o.tokenGaps(model, backend);
            } catch (RuntimeException e) {
                LOG.warn("observer {} failed on a token gap", o.getClass().getSimpleName(), e);
                continue;
            }
            if (g != null && g != TokenGaps.NONE) {
                kept.add(g);
                owners.add(o);
            }
        }
        if (kept.isEmpty()) {
            return TokenGaps.NONE;
        }
        TokenGaps[] gaps = kept.toArray(new TokenGaps[0]);
        RequestObserver[] from = owners.toArray(new RequestObserver[0]);
        return gapNanos -> {
            for (int i = 0; i < gaps.length; i++) {
                try {
                    gaps[i].record(gapNanos);
                } catch (RuntimeException e) {
                    LOG.warn("observer {} failed on a token gap", from[i].getClass().getSimpleName(), e);
                }
            }
        };
    }
}

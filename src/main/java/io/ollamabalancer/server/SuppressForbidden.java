package io.ollamabalancer.server;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that may make a blocking call the build otherwise forbids in the event-loop packages
 * ({@code src/build/forbidden/event-loop-blocking.txt}, checked by the forbiddenapis plugin): only start-up and
 * shutdown paths that run on the caller's thread, never on an event loop. Say why next to it.
 */
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.CONSTRUCTOR})
@interface SuppressForbidden {
}

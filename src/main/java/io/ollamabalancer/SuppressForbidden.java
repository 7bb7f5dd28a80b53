package io.ollamabalancer;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that may make a call the build otherwise forbids (the forbiddenapis plugin): a blocking call in
 * the event-loop packages ({@code src/build/forbidden/event-loop-blocking.txt}) on a start-up or shutdown path that
 * runs on the caller's thread, never on an event loop; or a JDK-internal API with no public equivalent (catching
 * SIGTERM). Say why next to it. Class-retained, read only by the build.
 */
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.CONSTRUCTOR})
public @interface SuppressForbidden {
}

# syntax=docker/dockerfile:1
# Ollama Balancer: build the shaded jar with Maven, run it on a JRE as a non-root user.
#   docker build -t ollama-balancer .
#   docker run -p 3000:3000 -v $PWD/containers.config.json:/app/containers.config.json:ro ollama-balancer

FROM maven:3-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
# The Maven cache survives between builds (BuildKit), so only changed sources cost time.
RUN --mount=type=cache,target=/root/.m2 mvn -B -q dependency:go-offline || true
COPY src ./src
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 balancer \
 && useradd --system --uid 10001 --gid balancer --home-dir /app --shell /usr/sbin/nologin balancer
WORKDIR /app
COPY --from=build /src/target/ollama-balancer.jar /app/ollama-balancer.jar
# Defaults for the settings (conf/balancer.properties) and an example backends file; mount your own over it.
COPY conf/balancer.properties /app/conf/balancer.properties
COPY containers.config.json /app/containers.config.json
USER 10001:10001
EXPOSE 3000
# Size the heap from the container's memory limit, and let the orchestrator restart a JVM out of memory.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
# The JVM runs as PID 1 (exec form) and gets the stop signal itself: SIGTERM starts the graceful drain
# (SHUTDOWN_DELAY, SHUTDOWN_GRACE); give the container that long plus a margin before it is killed.
STOPSIGNAL SIGTERM
ENTRYPOINT ["java","-jar","/app/ollama-balancer.jar"]

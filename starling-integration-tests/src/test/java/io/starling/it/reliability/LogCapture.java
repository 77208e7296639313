package io.starling.it.reliability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/** Collects the broker's log events (of every logger) while it is open, to assert what an operator would read. */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    LogCapture() {
        setName("capture");
        start();
        root.addAppender(this);
    }

    @Override
    protected void append(ILoggingEvent e) {
        e.prepareForDeferredProcessing();
        events.add(e);
    }

    /** Events at {@code level} or above whose formatted message satisfies {@code p}. */
    List<String> find(Level level, Predicate<String> p) {
        return events.stream().filter(e -> e.getLevel().isGreaterOrEqual(level))
                .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()
                        + (e.getThrowableProxy() == null ? "" : " [" + e.getThrowableProxy().getClassName() + ": "
                                + e.getThrowableProxy().getMessage() + "]"))
                .filter(p).toList();
    }

    /** Events carrying a throwable of one of these classes (by simple or full name). */
    List<String> throwables(String... classNames) {
        return events.stream().filter(e -> e.getThrowableProxy() != null)
                .filter(e -> List.of(classNames).stream().anyMatch(c -> e.getThrowableProxy().getClassName().endsWith(c)))
                .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage() + " ["
                        + e.getThrowableProxy().getClassName() + ": " + e.getThrowableProxy().getMessage() + "]")
                .toList();
    }

    @Override
    public void close() {
        root.detachAppender(this);
        stop();
    }
}

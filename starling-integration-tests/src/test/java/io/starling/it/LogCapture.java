package io.starling.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Collects the broker's log events (Logback) while a test runs, to assert what was logged and that nothing was
 * logged with a stack trace. The root logger stays at its level (WARN in the tests); the classes named at
 * {@link #start} are captured from INFO. Use with try-with-resources; {@link #close()} restores the levels.
 */
public final class LogCapture implements AutoCloseable {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger root;
    private final Map<Logger, Level> saved = new LinkedHashMap<>();

    private LogCapture(Class<?>... infoLoggers) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        for (Class<?> c : infoLoggers) {
            Logger l = context.getLogger(c);
            saved.put(l, l.getLevel());
            l.setLevel(Level.INFO);
        }
        appender.setContext(context);
        appender.start();
        root.addAppender(appender);
    }

    /** Starts capturing; the loggers of {@code infoLoggers} are captured from INFO up. */
    public static LogCapture start(Class<?>... infoLoggers) {
        return new LogCapture(infoLoggers);
    }

    /** The events so far. */
    public List<ILoggingEvent> events() {
        synchronized (appender.list) {
            return new ArrayList<>(appender.list);
        }
    }

    /** The messages (formatted) of the events so far that contain {@code text}. */
    public List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent e : events()) {
            if (e.getFormattedMessage().contains(text)) {
                out.add(e.getFormattedMessage());
            }
        }
        return out;
    }

    /** Events logged at ERROR or with a throwable (a stack trace), as text for an assertion message. */
    public List<String> errorsAndStackTraces() {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent e : events()) {
            if (e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null) {
                out.add(e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage()
                        + (e.getThrowableProxy() == null ? "" : " / " + e.getThrowableProxy().getClassName() + ": "
                        + e.getThrowableProxy().getMessage()));
            }
        }
        return out;
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        appender.stop();
        saved.forEach(Logger::setLevel);
    }
}

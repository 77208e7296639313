package io.starling.store.rocksdb;

import io.starling.broker.config.BrokerConfig.Fsync;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The process {@link CrashTest} kills: writes numbered keys (and retained messages) from an event loop and, in
 * each key's whenDurable action, appends its number to an "acked" file (a plain write(2), which survives the
 * process). Runs until killed.
 */
public final class CrashChild {

    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        Fsync mode = Fsync.parse(args[1]);
        Path acked = Path.of(args[2]);
        long first = Long.parseLong(args[3]);
        RocksDbStore store = RocksDbStore.open(RocksDbConfig.defaults(dataDir).withFsync(mode));
        FileChannel ackFile = FileChannel.open(acked, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        DefaultEventExecutor loop = new DefaultEventExecutor();
        loop.execute(() -> next(store, loop, ackFile, first));
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void next(RocksDbStore store, DefaultEventExecutor loop, FileChannel ackFile, long i) {
        // a few writes per task, several tasks in flight: batches of several writes each
        for (long n = i; n < i + 4; n++) {
            long number = n;
            store.put(KeySpace.MESSAGES, CrashTest.key(number), CrashTest.key(number));
            store.retained().update(new Message("crash/" + (number % 16), 1, true, CrashTest.key(number), Properties.EMPTY,
                    "child", Message.NEVER));
            store.whenDurable(() -> {
                try {
                    ackFile.write(ByteBuffer.wrap((number + "\n").getBytes(StandardCharsets.US_ASCII)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        loop.execute(() -> next(store, loop, ackFile, i + 4));
    }
}

package dev.curvlab.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** The atomic writer and the output transaction: exclusive temporaries, special files, same-file checks, all-or-nothing. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writeReplacesAtomicallyAndLeavesNoTemporary() throws IOException {
        Path f = dir.resolve("a.txt");
        AtomicFiles.write(f, "one".getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(f, "two".getBytes(StandardCharsets.UTF_8));
        assertEquals("two", Files.readString(f));
        assertEquals(List.of("a.txt"), names());
        assertTrue(AtomicFiles.live().stream().noneMatch(p -> p.startsWith(dir)), "temporaries unregistered");
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path f = dir.resolve("a.txt");
        Files.writeString(f, "old");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(java.nio.ByteBuffer.wrap("partial".getBytes(StandardCharsets.UTF_8)));
            throw new IOException("disk on fire");
        }));
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("a.txt"), names());
    }

    @Test
    void aSymlinkPlantedAtAnyTemporaryNameIsNeverFollowed() throws IOException {
        Path victim = dir.resolve("victim.txt");
        Files.writeString(victim, "precious");
        Path name = AtomicFiles.temporaryName(dir.resolve("out.txt"));
        Files.createSymbolicLink(name, victim);
        // the name is taken (by a link): exclusive creation moves on to another unique name
        Path tmp = AtomicFiles.createExclusive(name);
        assertFalse(tmp.equals(name));
        assertTrue(Files.isRegularFile(tmp, LinkOption.NOFOLLOW_LINKS));
        AtomicFiles.discard(tmp);
        assertEquals("precious", Files.readString(victim));
        assertTrue(Files.isSymbolicLink(name));
    }

    @Test
    void devicesAreWrittenInPlaceNeverReplaced() throws IOException {
        Path devNull = Path.of("/dev/null");
        if (!Files.exists(devNull)) {
            return;
        }
        AtomicFiles.write(devNull, new byte[] {1, 2, 3});
        NpyFile.write(devNull, Nd4j.ones(3));
        assertTrue(Files.readAttributes(devNull, java.nio.file.attribute.BasicFileAttributes.class).isOther(), "/dev/null is still a device");
        Path full = Path.of("/dev/full");
        if (Files.exists(full)) {
            IOException e = assertThrows(IOException.class, () -> NpyFile.write(full, Nd4j.ones(1000)));
            assertTrue(e.getMessage().startsWith("/dev/full: "), e.getMessage());
            assertTrue(Files.readAttributes(full, java.nio.file.attribute.BasicFileAttributes.class).isOther());
        }
    }

    @Test
    void sameFileByPathDotsSymlinkAndHardLink() throws IOException {
        Path a = dir.resolve("a.npy");
        Files.writeString(a, "x");
        Files.createDirectory(dir.resolve("sub"));
        assertTrue(AtomicFiles.sameFile(a, dir.resolve("sub/../a.npy")));
        assertTrue(AtomicFiles.sameFile(a, Files.createSymbolicLink(dir.resolve("link.npy"), a)));
        assertTrue(AtomicFiles.sameFile(a, Files.createLink(dir.resolve("hard.npy"), a)));
        assertTrue(AtomicFiles.sameFile(dir.resolve("new.npy"), dir.resolve("sub/../new.npy")), "also for files not yet written");
        assertFalse(AtomicFiles.sameFile(a, dir.resolve("b.npy")));
    }

    @Test
    void concurrentWritersEachLeaveOneCompleteResult() throws Exception {
        Path f = dir.resolve("m.bin");
        int writers = 6;
        byte[][] contents = new byte[writers][];
        List<Thread> threads = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int w = 0; w < writers; w++) {
            byte[] c = new byte[1 << 20];
            java.util.Arrays.fill(c, (byte) w);
            contents[w] = c;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < 5; i++) {
                        AtomicFiles.write(f, c);
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(errors.isEmpty(), errors.toString());
        byte[] got = Files.readAllBytes(f);
        assertTrue(java.util.Arrays.stream(contents).anyMatch(c -> java.util.Arrays.equals(c, got)), "one writer's complete content");
        assertEquals(List.of("m.bin"), names());
    }

    @Test
    void aTransactionCommitsAllOrRemovesAll() throws IOException {
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.declare(a, "--out");
            tx.declare(b, "--se");
            tx.write(a, Nd4j.ones(4));
            assertEquals(1, names().size(), "staged, not visible: " + names());
            // the second output fails: nothing appears
        }
        assertEquals(List.of(), names());
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.write(a, Nd4j.ones(4));
            tx.write(b, Nd4j.zeros(2));
            tx.commit();
        }
        assertEquals(List.of("a.npy", "b.npy"), names());
        assertArrayEquals(new double[] {0, 0}, NpyFile.read(b).toDoubleVector());
    }

    @Test
    void aDirectoryOutputAppearsWholeOrNotAtAllAndReplacesOnlyItsOwnKind() throws IOException {
        Path post = dir.resolve("post");
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.declareDirectory(post, "--posterior", "posterior.json");
            Path tmp = tx.stageDirectory(post);
            assertTrue(AtomicFiles.live().contains(tmp), "registered for the shutdown hook");
            NpyFile.write(tmp.resolve("A_0.npy"), Nd4j.ones(2, 2));
            Files.createDirectory(tmp.resolve("nested"));
            // no commit: the temporary directory and its contents are removed
        }
        assertEquals(List.of(), names());
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.declareDirectory(post, "--posterior", "posterior.json");
            Path tmp = tx.stageDirectory(post);
            AtomicFiles.write(tmp.resolve("posterior.json"), "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            NpyFile.write(tmp.resolve("old.npy"), Nd4j.ones(1));
            tx.commit();
        }
        assertEquals(List.of("post"), names());
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.declareDirectory(post, "--posterior", "posterior.json");
            Path tmp = tx.stageDirectory(post);
            AtomicFiles.write(tmp.resolve("posterior.json"), "{\"v\": 2}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            tx.commit();
        }
        assertEquals(List.of("post"), names(), "the earlier directory, renamed aside, is gone");
        assertFalse(Files.exists(post.resolve("old.npy")), "replaced as a whole");
        assertEquals("{\"v\": 2}", Files.readString(post.resolve("posterior.json")));
        assertTrue(AtomicFiles.live().stream().noneMatch(p -> p.startsWith(dir)));
    }

    @Test
    void aDirectoryOutputRefusesInputsInsideSymlinksAndUnrelatedDirectories() throws IOException {
        Path post = Files.createDirectory(dir.resolve("post"));
        Files.writeString(post.resolve("posterior.json"), "{}");
        Path model = Files.writeString(post.resolve("model.json"), "{}");
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.declareDirectory(post, "--posterior", "posterior.json");
            assertTrue(assertThrows(OutputTransaction.OutputException.class, () -> tx.input(model, "--model")).getMessage()
                    .contains("holds the input --model"));
            assertTrue(assertThrows(OutputTransaction.OutputException.class, () -> tx.declare(post.resolve("r.json"), "--report")).getMessage()
                    .contains("lies inside"));
        }
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.input(dir.resolve("post/../post/model.json"), "--model");
            assertThrows(OutputTransaction.OutputException.class, () -> tx.declareDirectory(post, "--posterior", "posterior.json"));
        }
        Path link = Files.createSymbolicLink(dir.resolve("alias"), post);
        Path other = Files.createDirectory(dir.resolve("other"));
        Files.writeString(other.resolve("keep.txt"), "mine");
        try (OutputTransaction tx = new OutputTransaction()) {
            assertTrue(assertThrows(OutputTransaction.OutputException.class, () -> tx.declareDirectory(link, "--posterior", "posterior.json"))
                    .getMessage().contains("symbolic link"));
            assertTrue(assertThrows(OutputTransaction.OutputException.class, () -> tx.declareDirectory(other, "--posterior", "posterior.json"))
                    .getMessage().contains("not empty"));
            assertThrows(OutputTransaction.OutputException.class, () -> tx.declareDirectory(model, "--posterior", "posterior.json"));
        }
        assertEquals("mine", Files.readString(other.resolve("keep.txt")));
    }

    @Test
    void aTransactionRefusesOutputsThatAreInputsOrEachOther() throws IOException {
        Path in = dir.resolve("params.npy");
        NpyFile.write(in, Nd4j.ones(3));
        Path link = Files.createSymbolicLink(dir.resolve("alias.npy"), in);
        try (OutputTransaction tx = new OutputTransaction()) {
            tx.input(in, "--params");
            assertTrue(assertThrows(OutputTransaction.OutputException.class, () -> tx.declare(link, "--out")).getMessage()
                    .contains("is the input --params"));
            assertThrows(OutputTransaction.OutputException.class, () -> tx.declare(dir.resolve("./x/../params.npy"), "--out"));
            tx.declare(dir.resolve("o.npy"), "--out");
            assertTrue(assertThrows(OutputTransaction.OutputException.class, () -> tx.declare(dir.resolve("sub/../o.npy"), "--se"))
                    .getMessage().contains("name the same file"));
            assertThrows(OutputTransaction.OutputException.class, () -> tx.declare(dir, "--out"));
            assertThrows(OutputTransaction.OutputException.class, () -> tx.declare(dir.resolve("nowhere/o.npy"), "--out"));
            OutputTransaction.OutputException space = assertThrows(OutputTransaction.OutputException.class,
                    () -> tx.requireSpace(dir.resolve("o.npy"), 1e18));
            assertTrue(space.getMessage().contains("of disk") && space.getMessage().contains("--out"), space.getMessage());
        }
        assertArrayEquals(new double[] {1, 1, 1}, NpyFile.read(in).toDoubleVector());
    }

    @Test
    void aFifoIsReadAsAStreamAndOneWithoutWriterIsRefused() throws Exception {
        Path fifo = dir.resolve("p.npy");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() != 0) {
            return;
        }
        Path src = dir.resolve("src.npy");
        NpyFile.write(src, Nd4j.linspace(1, 5, 5));
        Thread writer = new Thread(() -> {
            try {
                Files.write(fifo, Files.readAllBytes(src));
            } catch (IOException ignored) {
                // the test fails on the read side
            }
        });
        writer.start();
        assertArrayEquals(new double[] {1, 2, 3, 4, 5}, NpyFile.read(fifo).toDoubleVector(), 0);
        writer.join();
        String old = System.getProperty("curvlab.input.openTimeoutMs");
        System.setProperty("curvlab.input.openTimeoutMs", "300");
        try {
            IOException e = assertThrows(IOException.class, () -> NpyFile.read(fifo));
            assertTrue(e.getMessage().startsWith(fifo + ": no process writes"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("curvlab.input.openTimeoutMs");
            } else {
                System.setProperty("curvlab.input.openTimeoutMs", old);
            }
            Files.write(fifo, new byte[0]);   // releases the reader still waiting to open it
        }
    }
}

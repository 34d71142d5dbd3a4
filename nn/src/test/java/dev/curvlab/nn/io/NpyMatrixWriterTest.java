package dev.curvlab.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NpyMatrixWriterTest {

    @TempDir
    Path dir;

    private static final int R = 7;
    private static final int C = 5;

    /** Reference matrix: entry (i, j) = 10 i + j + 0.5. */
    private static double[] expected() {
        double[] v = new double[R * C];
        for (int i = 0; i < R; i++) {
            for (int j = 0; j < C; j++) {
                v[i * C + j] = 10 * i + j + 0.5;
            }
        }
        return v;
    }

    private static INDArray rows(int from, int to) {
        double[] all = expected();
        double[] part = java.util.Arrays.copyOfRange(all, from * C, to * C);
        return Nd4j.create(part, new long[] {to - from, C}, DataType.DOUBLE);
    }

    @Test
    void presizedFileReadsAsZeros() throws IOException {
        Path p = dir.resolve("h.npy");
        try (NpyMatrixWriter w = NpyMatrixWriter.create(p, R, C)) {
            assertEquals(R, w.rows());
            assertEquals(C, w.cols());
            assertEquals(p, w.path());
        }
        INDArray a = NpyFile.read(p);
        assertArrayEquals(new long[] {R, C}, a.shape());
        assertEquals(0.0, a.sumNumber().doubleValue());
    }

    @Test
    void rowBlocksInAnyOrderRoundTrip() throws IOException {
        Path p = dir.resolve("h.npy");
        try (NpyMatrixWriter w = NpyMatrixWriter.create(p, R, C)) {
            w.writeRows(4, rows(4, 7));
            w.writeRows(0, rows(0, 2));
            w.writeRows(3, rows(3, 4).reshape(C)); // rank-1 single row
            w.writeRows(2, rows(2, 3).castTo(DataType.FLOAT)); // converted to float64
        }
        assertArrayEquals(expected(), NpyFile.read(p).data().asDouble());
    }

    @Test
    void columnBlocksAndViews() throws IOException {
        Path p = dir.resolve("h.npy");
        INDArray full = rows(0, R);
        try (NpyMatrixWriter w = NpyMatrixWriter.create(p, R, C)) {
            w.writeBlock(0, 0, full.getColumns(0, 1));
            w.writeBlock(0, 2, full.getColumns(2, 3, 4));
        }
        assertEquals(full, NpyFile.read(p));
    }

    @Test
    void resumesExistingFile() throws IOException {
        Path p = dir.resolve("h.npy.partial");
        try (NpyMatrixWriter w = NpyMatrixWriter.create(p, R, C)) {
            w.writeRows(0, rows(0, 3));
        }
        try (NpyMatrixWriter w = NpyMatrixWriter.openExisting(p)) {
            assertEquals(R, w.rows());
            assertEquals(C, w.cols());
            w.writeRows(3, rows(3, 7));
            w.flush();
        }
        Path done = Files.move(p, dir.resolve("h.npy"));
        assertArrayEquals(expected(), NpyFile.read(done).data().asDouble());
    }

    @Test
    void resumesFileWrittenByNpyFile() throws IOException {
        Path p = dir.resolve("h.npy");
        NpyFile.write(p, Nd4j.zeros(DataType.DOUBLE, R, C));
        try (NpyMatrixWriter w = NpyMatrixWriter.openExisting(p)) {
            w.writeRows(0, rows(0, R));
        }
        assertArrayEquals(expected(), NpyFile.read(p).data().asDouble());
    }

    @Test
    void rejectsBlocksOutOfBounds() throws IOException {
        try (NpyMatrixWriter w = NpyMatrixWriter.create(dir.resolve("h.npy"), R, C)) {
            assertThrows(IndexOutOfBoundsException.class, () -> w.writeRows(6, rows(0, 2)));
            assertThrows(IndexOutOfBoundsException.class, () -> w.writeRows(-1, rows(0, 1)));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> w.writeRows(0, Nd4j.zeros(DataType.DOUBLE, 1, C + 1)));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> w.writeBlock(0, 4, Nd4j.zeros(DataType.DOUBLE, 2, 2)));
            assertThrows(IllegalArgumentException.class,
                    () -> w.writeRows(0, Nd4j.zeros(DataType.DOUBLE, 1, 1, C)));
        }
        assertThrows(IllegalArgumentException.class, () -> NpyMatrixWriter.create(dir.resolve("n.npy"), -1, 3));
    }

    @Test
    void closedWriterRefusesWrites() throws IOException {
        NpyMatrixWriter w = NpyMatrixWriter.create(dir.resolve("h.npy"), R, C);
        w.close();
        w.close(); // idempotent
        IOException e = assertThrows(IOException.class, () -> w.writeRows(0, rows(0, 1)));
        assertTrue(e.getMessage().contains("closed"));
    }

    @Test
    void openExistingErrors() throws IOException {
        Path missing = dir.resolve("missing.npy");
        assertThrows(NoSuchFileException.class, () -> NpyMatrixWriter.openExisting(missing));

        Path f32 = dir.resolve("f32.npy");
        NpyFile.write(f32, Nd4j.zeros(DataType.FLOAT, 2, 2));
        String m = assertThrows(NpyFormatException.class, () -> NpyMatrixWriter.openExisting(f32)).getMessage();
        assertTrue(m.startsWith(f32.toString()) && m.contains("'<f4'"), m);

        Path vec = dir.resolve("vec.npy");
        NpyFile.write(vec, Nd4j.zeros(DataType.DOUBLE, 4));
        m = assertThrows(NpyFormatException.class, () -> NpyMatrixWriter.openExisting(vec)).getMessage();
        assertTrue(m.contains("shape (4,)"), m);

        Path cut = dir.resolve("cut.npy");
        NpyMatrixWriter.create(cut, R, C).close();
        try (FileChannel ch = FileChannel.open(cut, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 8);
        }
        m = assertThrows(NpyFormatException.class, () -> NpyMatrixWriter.openExisting(cut)).getMessage();
        assertTrue(m.contains("truncated"), m);

        Path text = Files.writeString(dir.resolve("text.npy"), "plain text");
        m = assertThrows(NpyFormatException.class, () -> NpyMatrixWriter.openExisting(text)).getMessage();
        assertTrue(m.contains("bad magic"), m);
    }

    @Test
    void emptyMatrix() throws IOException {
        Path p = dir.resolve("e.npy");
        try (NpyMatrixWriter w = NpyMatrixWriter.create(p, 0, 3)) {
            assertEquals(0, w.rows());
        }
        assertArrayEquals(new long[] {0, 3}, NpyFile.read(p).shape());
        NpyMatrixWriter.openExisting(p).close();
    }

    @Test
    void mappedMatrixWritesStraightToTheFileAndCopyOnWriteViewsDoNot() throws IOException {
        Path f = dir.resolve("mapped.npy");
        INDArray expected = Nd4j.rand(DataType.DOUBLE, 7, 5);
        try (NpyMatrixWriter w = NpyMatrixWriter.create(f, 7, 5)) {
            INDArray m = w.mapped();
            assertEquals(0.0, m.amaxNumber().doubleValue(), "a new file maps as zeros");
            m.assign(expected);
        }
        assertEquals(expected, NpyFile.read(f));
        INDArray view = NpyFile.mapCopyOnWrite(f);
        assertEquals(expected, view);
        view.addi(1.0);
        assertEquals(expected.add(1.0), view);
        assertEquals(expected, NpyFile.read(f), "changes to a copy-on-write view stay in memory");
    }
}

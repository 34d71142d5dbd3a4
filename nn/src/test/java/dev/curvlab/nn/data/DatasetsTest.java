package dev.curvlab.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.nn.io.NpyFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DatasetsTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private String csvError(Path p, CsvSpec spec) {
        String m = assertThrows(DatasetFormatException.class, () -> Datasets.csv(p, spec)).getMessage();
        assertTrue(m.startsWith(p.toString() + ": "), m);
        return m.substring(p.toString().length() + 2);
    }

    // ---- Iris --------------------------------------------------------------------------------------

    @Test
    void irisMatchesResourceText() throws IOException {
        String text;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("iris.dat")) {
            text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        // independent plain-Java parse of the resource
        double[] sums = new double[4];
        int[] counts = new int[3];
        int rows = 0;
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split(",");
            assertEquals(5, f.length, line);
            for (int j = 0; j < 4; j++) {
                sums[j] += Double.parseDouble(f[j]);
            }
            counts[Integer.parseInt(f[4])]++;
            rows++;
        }
        assertEquals(150, rows);

        Dataset iris = Datasets.iris();
        assertEquals(150, iris.n());
        assertEquals(4, iris.d());
        assertTrue(iris.hasClassIndices());
        assertEquals(3, iris.numClasses());
        assertArrayEquals(new long[] {150}, iris.y().shape());
        assertEquals(DataType.DOUBLE, iris.x().dataType());
        assertArrayEquals(new double[] {5.1, 3.5, 1.4, 0.2}, iris.x().getRow(0).toDoubleVector());
        double[] means = iris.x().mean(0).toDoubleVector();
        for (int j = 0; j < 4; j++) {
            assertEquals(sums[j] / 150, means[j], 1e-12, "mean of column " + j);
        }
        assertArrayEquals(new int[] {50, 50, 50}, counts);
        for (int c = 0; c < 3; c++) {
            assertEquals(counts[c], iris.y().eq(c).castTo(DataType.DOUBLE).sumNumber().intValue());
        }
        assertEquals(5.843, means[0], 1e-3); // well-known sepal length mean
    }

    // ---- CSV ---------------------------------------------------------------------------------------

    @Test
    void csvWithHeaderAndLastColumnTarget() throws IOException {
        Path p = write("a.csv", "a,b,target\n1,2,0.5\n\n3, 4 ,1.5\n# comment\n5,6e-1,-2\n");
        Dataset ds = Datasets.csv(p, -1, true);
        assertEquals(3, ds.n());
        assertEquals(2, ds.d());
        assertArrayEquals(new long[] {3, 1}, ds.y().shape());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 0.6}, ds.x().data().asDouble());
        assertArrayEquals(new double[] {0.5, 1.5, -2}, ds.y().data().asDouble());
    }

    @Test
    void csvSpecVariants() throws IOException {
        // numpy.savetxt-style header starting with '#', semicolons, quotes, BOM, middle class column
        Path p = write("b.csv", "\uFEFF# x1;label;x2\n\"1.0\";2;3\n4;0;6\n");
        Dataset ds = Datasets.csv(p, CsvSpec.classification(1).withHeader(true).withDelimiter(';'));
        assertArrayEquals(new long[] {2}, ds.y().shape());
        assertArrayEquals(new double[] {2, 0}, ds.y().toDoubleVector());
        assertArrayEquals(new double[] {1, 3, 4, 6}, ds.x().data().asDouble());

        Path q = write("c.csv", "1,2,3,4\n5,6,7,8\n");
        Dataset multi = Datasets.csv(q, CsvSpec.regression(0, -1));
        assertArrayEquals(new double[] {2, 3, 6, 7}, multi.x().data().asDouble());
        assertArrayEquals(new double[] {1, 4, 5, 8}, multi.y().data().asDouble());
        assertArrayEquals(new long[] {2, 2}, multi.y().shape());
    }

    @Test
    void csvErrorsNameLineAndColumn() throws IOException {
        CsvSpec last = CsvSpec.regression(-1);
        assertEquals("line 3, column 2 (index 1): non-numeric value 'abc'",
                csvError(write("e1.csv", "1,2,3\n4,5,6\n7,abc,9\n"), last));
        assertEquals("line 2: ragged row with 2 columns, expected 3 as on line 1",
                csvError(write("e2.csv", "1,2,3\n4,5\n"), last));
        assertEquals("line 3: ragged row with 4 columns, expected 3 as on line 2",
                csvError(write("e3.csv", "h1,h2,h3\n1,2,3\n4,5,6,7\n"), last.withHeader(true)));
        assertEquals("line 1, column 2 (index 1): empty cell", csvError(write("e4.csv", "1,,3\n"), last));
        assertEquals("line 1, column 1 (index 0): non-finite value 'NaN'", csvError(write("e5.csv", "NaN,2,3\n"), last));
        assertEquals("line 2, column 3 (index 2): class index must be a non-negative integer, got '1.5'",
                csvError(write("e6.csv", "1,2,0\n1,2,1.5\n"), CsvSpec.classification(2)));
        assertEquals("target column 5 does not exist: line 1 has 3 columns",
                csvError(write("e7.csv", "1,2,3\n"), CsvSpec.regression(5)));
        assertEquals("no data rows after the header", csvError(write("e8.csv", "a,b\n\n"), last.withHeader(true)));
        assertEquals("no feature columns left: line 1 has 2 columns and 2 are targets",
                csvError(write("e9.csv", "1,2\n"), CsvSpec.regression(0, 1)));
        assertThrows(NoSuchFileException.class, () -> Datasets.csv(dir.resolve("missing.csv"), 0, false));
        assertThrows(IllegalArgumentException.class, () -> new CsvSpec(new int[] {0, 1}, false, true, ','));
    }

    // ---- npy ---------------------------------------------------------------------------------------

    @Test
    void npyPair() throws IOException {
        INDArray x = Nd4j.create(new double[] {1, 2, 3, 4, 5, 6}, new long[] {3, 2}, DataType.DOUBLE);
        Path xf = dir.resolve("x.npy");
        Path yf = dir.resolve("y.npy");
        NpyFile.write(xf, x);
        NpyFile.write(yf, Nd4j.create(new double[] {0, 2, 1}, new long[] {3}, DataType.DOUBLE));
        NpyFile.write(yf.resolveSibling("y3.npy"), Nd4j.create(new double[] {0, 2, 1}, new long[] {3}, DataType.DOUBLE));
        Dataset ds = Datasets.npy(xf, yf);
        assertEquals(x, ds.x());
        assertEquals(3, ds.numClasses());

        NpyFile.write(yf, Nd4j.zeros(DataType.DOUBLE, 4, 2));
        String m = assertThrows(DatasetFormatException.class, () -> Datasets.npy(xf, yf)).getMessage();
        assertEquals("row counts differ: " + xf + " has shape [3, 2] but " + yf + " has shape [4, 2]", m);

        m = assertThrows(DatasetFormatException.class, () -> Datasets.npy(yf, xf)).getMessage();
        assertTrue(m.contains("row counts differ"), m);

        Path v = dir.resolve("v.npy");
        NpyFile.write(v, Nd4j.zeros(DataType.DOUBLE, 3));
        m = assertThrows(DatasetFormatException.class, () -> Datasets.npy(v, v)).getMessage();
        assertEquals(v + ": features must have rank 2 [n, d] (or images [n, C, H, W]), got shape [3]", m);
        Path images = dir.resolve("images.npy");
        NpyFile.write(images, Nd4j.zeros(DataType.DOUBLE, 3, 1, 2, 2));
        assertEquals("[3, 1, 2, 2]", java.util.Arrays.toString(Datasets.npy(images, yf.resolveSibling("y3.npy")).x().shape()));

        INDArray bad = x.dup();
        bad.putScalar(1, 1, Double.NaN);
        NpyFile.write(xf, bad);
        NpyFile.write(yf, Nd4j.zeros(DataType.DOUBLE, 3, 1));
        m = assertThrows(DatasetFormatException.class, () -> Datasets.npy(xf, yf)).getMessage();
        assertTrue(m.startsWith(xf + " / " + yf + ": ") && m.endsWith("at row 1, column 1"), m);
    }

    @Test
    void digitsAreImagesOfTenClassesWithKnownPixels() {
        Dataset d = Datasets.digits();
        assertEquals("[1797, 1, 8, 8]", java.util.Arrays.toString(d.x().shape()));
        assertEquals(10, d.numClasses());
        assertEquals(0.0, d.y().getDouble(0), 0.0);
        assertEquals(1.0, d.y().getDouble(1), 0.0);
        // first image, second row: 0,0,13,15,10,15,5,0 (pixel counts / 16)
        assertEquals(13 / 16.0, d.x().getDouble(0, 0, 1, 2), 0.0);
        assertEquals(5 / 16.0, d.x().getDouble(0, 0, 1, 6), 0.0);
        assertEquals(1.0, d.x().maxNumber().doubleValue(), 0.0);
        assertEquals(0.0, d.x().minNumber().doubleValue(), 0.0);
        int[] counts = new int[10];
        for (double c : d.y().toDoubleVector()) {
            counts[(int) c]++;
        }
        for (int c : counts) {
            assertTrue(c >= 174 && c <= 183, java.util.Arrays.toString(counts));   // 174..183 images per digit
        }
    }
}

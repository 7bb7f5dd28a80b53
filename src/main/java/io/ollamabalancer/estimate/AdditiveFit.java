package io.ollamabalancer.estimate;

/**
 * Fits a table of figures (rows: backends, columns: models; in logs, so a product becomes a sum) as a row part
 * plus a column part, by alternating weighted means: each round sets every column's part to the weighted mean of
 * its cells less their rows' parts, then every row's part likewise. This is least squares over the cells that have
 * a weight: with every cell known one round is exact (the plain means); where rows saw different columns, the rounds
 * undo the confusion of a model's speed with the speed of the backends that happened to run it.
 *
 * <p>Used by {@link CostModel} (the fleet's speeds, each pair counted once) and by the placement planner (capacities,
 * each pair weighted by what it has seen). Stateless; the arrays passed in are read, never kept.
 */
public final class AdditiveFit {
    private AdditiveFit() {
    }

    /**
     * The parts of {@code value}: a cell with weight 0 (or a NaN value) is not known and counts for nothing.
     *
     * @param value      [row][column] figures
     * @param weight     [row][column] weights, ≥ 0
     * @param rounds     rounds of alternation
     * @param centreRows whether the rows' parts are shifted to average zero over the rows with a known cell after
     *                   each round (the columns then hold the typical row's figure); a row without one is shifted too
     * @return the rows' parts and the columns' parts (0 where nothing is known)
     */
    public static Parts fit(double[][] value, double[][] weight, int rounds, boolean centreRows) {
        int rows = value.length;
        int columns = rows == 0 ? 0 : value[0].length;
        double[] rowPart = new double[rows];
        double[] columnPart = new double[columns];
        for (int round = 0; round < rounds; round++) {
            for (int c = 0; c < columns; c++) {
                double part = meanLess(value, weight, c, false, rowPart);
                columnPart[c] = Double.isNaN(part) ? 0 : part;
            }
            double centre = 0;
            int centred = 0;
            for (int r = 0; r < rows; r++) {
                double part = meanLess(value, weight, r, true, columnPart);
                rowPart[r] = Double.isNaN(part) ? 0 : part;
                if (!Double.isNaN(part)) {
                    centre += part;
                    centred++;
                }
            }
            if (centreRows && centred > 0) {
                double shift = centre / centred;
                for (int r = 0; r < rows; r++) {
                    rowPart[r] -= shift;
                }
            }
        }
        return new Parts(rowPart, columnPart);
    }

    /**
     * The weighted mean, over the known cells of row {@code index} ({@code ofRow}) or of column {@code index}, of
     * each cell less the other dimension's part ({@code other}, indexed by column for a row and by row for a
     * column); NaN when none of its cells is known.
     */
    private static double meanLess(double[][] value, double[][] weight, int index, boolean ofRow, double[] other) {
        double sum = 0;
        double w = 0;
        for (int j = 0; j < other.length; j++) {
            int r = ofRow ? index : j;
            int c = ofRow ? j : index;
            if (known(value, weight, r, c)) {
                sum += weight[r][c] * (value[r][c] - other[j]);
                w += weight[r][c];
            }
        }
        return w > 0 ? sum / w : Double.NaN;
    }

    private static boolean known(double[][] value, double[][] weight, int r, int c) {
        return weight[r][c] > 0 && !Double.isNaN(value[r][c]);
    }

    /**
     * What {@link #fit} found.
     *
     * @param rows    each row's part
     * @param columns each column's part
     */
    public record Parts(double[] rows, double[] columns) {
    }
}

package facts

import (
	"reflect"
	"testing"
)

func TestBatchKinds(t *testing.T) {
	for _, tc := range []struct {
		b    Batch
		want []Kind
	}{
		{Batch{}, nil},
		{Batch{Benchmarks: make([]BenchmarkValue, 1)}, nil},
		{Batch{Cases: make([]Case, 1)}, []Kind{KindCases}},
		{Batch{Maintenance: make([]MaintenanceWindow, 1)}, []Kind{KindProbes}},
		{Batch{Cases: make([]Case, 2), EServices: make([]EService, 1), Responses: make([]SurveyResponse, 1), Probes: make([]ProbeResult, 1)},
			[]Kind{KindCases, KindEServices, KindSurvey, KindProbes}},
	} {
		if got := tc.b.Kinds(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Kinds of %d rows = %v, want %v", tc.b.Rows(), got, tc.want)
		}
	}
}

package strategy

import "testing"

// TestFollowsAndContinues: a plan that follows the previous one reads it,
// and its goal names the old goal it continues.
func TestFollowsAndContinues(t *testing.T) {
	const next = `municipality: {code: "0120", name: Testkommun}
id: plan-2018
title: E-plan 2018–2020
start: 2018-01-01
end: 2020-12-31
follows: plan-2015.yaml
areas:
  - id: service
    title: Service
    goals:
      - id: e-tjanster
        title: Fler e-tjänster
        kind: qualitative
        continues: e-tjanster-2015
`
	st, err := Parse("testdata/plan-2018.yaml", []byte(next))
	if err != nil {
		t.Fatal(err)
	}
	if st.Follows != "plan-2015.yaml" || st.Previous == nil || st.Previous.ID != "plan-2015" {
		t.Fatalf("follows %q, previous %+v", st.Follows, st.Previous)
	}
	if g := st.Goal("e-tjanster"); g == nil || g.Continues != "e-tjanster-2015" {
		t.Fatalf("goal %+v", g)
	}
}

package depkit

import (
	"strings"
	"testing"
)

func TestPurl(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{NpmPurl("@babel/core", "7.1.0"), "pkg:npm/%40babel/core@7.1.0"},
		{NpmPurl("lodash", "4.17.11"), "pkg:npm/lodash@4.17.11"},
		{NpmPurl("debug", ""), "pkg:npm/debug"},
		{PypiPurl("Django_Rest.framework", "3.2"), "pkg:pypi/django-rest-framework@3.2"},
		{Purl("golang", "github.com/ulikunitz", "xz", "v0.5.9"), "pkg:golang/github.com/ulikunitz/xz@v0.5.9"},
		{Purl("maven", "org.apache", "xmlsec", "2.1.1+b"), "pkg:maven/org.apache/xmlsec@2.1.1%2Bb"},
		{Purl("npm", "", "", "1"), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if v := VersionOf("pkg:maven/org.dom4j/dom4j@2.1.1.redhat-00001?type=jar"); v != "2.1.1.redhat-00001" {
		t.Errorf("VersionOf = %q", v)
	}
	if v := VersionOf("pkg:npm/%40scope/name"); v != "" {
		t.Errorf("VersionOf(no version) = %q", v)
	}
}

func TestVersionOrder(t *testing.T) {
	// Each list is in ascending order.
	for _, list := range [][]string{
		{"1.2.9", "1.2.10", "1.10.0", "2.0.0"},
		{"20.3.0rc1", "20.3.0", "20.3.1"},
		{"2.0.0-alpha", "2.0.0-beta", "2.0.0"},
		{"v0.0.0-20190227175134-215aa809caaf", "v0.0.0-20220314234659-1baeb1ce4c0b", "v0.1.0"},
		{"1.0", "1.0.1"},
		{"007", "8"},
	} {
		for i := 0; i+1 < len(list); i++ {
			if !VersionLess(list[i], list[i+1]) || VersionLess(list[i+1], list[i]) {
				t.Errorf("want %s < %s", list[i], list[i+1])
			}
		}
	}
	if VersionLess("1.0.0", "1.0.0+build5") || VersionLess("1.0.0+build5", "1.0.0") {
		t.Error("build metadata must not order versions")
	}
}

func TestLowestFixAbove(t *testing.T) {
	for _, tc := range []struct {
		installed string
		fixes     []string
		want      string
	}{
		{"3.2.9", []string{"2.2.25", "3.1.14", "3.2.10"}, "3.2.10"},
		{"18.9.0", []string{"19.2.1"}, "19.2.1"},
		{"", []string{"3.1", "2.0"}, "2.0"},
		{"5.0", []string{"4.0", " "}, ""},
		{"0.4.7", LowerBounds(">=1.1.0"), "1.1.0"},
		{"0.4.7", append(LowerBounds(">=1.1.0"), LowerBounds(">=0.4.8")...), "0.4.8"},
		{"4.5.2", LowerBounds(">=3.0.8 <4.0.0 || >=4.5.3"), "4.5.3"},
		{"0.13.9", LowerBounds(">=0.13.10, <0.14.0"), "0.13.10"},
		{"1.0", LowerBounds("^1.2.3"), "1.2.3"},
		{"1.0", LowerBounds("<2.0.0 || >=+x"), ""},
	} {
		if got := LowestFixAbove(tc.installed, tc.fixes); got != tc.want {
			t.Errorf("LowestFixAbove(%q, %q) = %q, want %q", tc.installed, tc.fixes, got, tc.want)
		}
	}
}

func TestSplitIDs(t *testing.T) {
	cve, al := SplitIDs("PYSEC-1", "PYSEC-1", "GHSA-x", "CVE-2021-1", "CVE-2021-2", "GHSA-x", "")
	if cve != "CVE-2021-1" || strings.Join(al, ",") != "GHSA-x,CVE-2021-2" {
		t.Errorf("cve %q aliases %q", cve, al)
	}
	cve, al = SplitIDs("CVE-2020-1", "CVE-2020-1")
	if cve != "CVE-2020-1" || len(al) != 0 {
		t.Errorf("cve %q aliases %q", cve, al)
	}
}

func TestCVSS3Score(t *testing.T) {
	for _, tc := range []struct {
		vector string
		want   float64
		ok     bool
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, true},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, true},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N", 4.8, true},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, true},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, true},
		{"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, true},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", 0, false},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 0, false},
		{"AV:N/AC:M/Au:N/C:N/I:P/A:N", 0, false},
		{"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 0, false},
	} {
		got, ok := CVSS3Score(tc.vector)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CVSS3Score(%s) = %v, %v; want %v, %v", tc.vector, got, ok, tc.want, tc.ok)
		}
	}
}

func TestURLs(t *testing.T) {
	got := URLs("[Issue #60](https://github.com/tj/node-growl/issues/60)\n- https://www.npmjs.com/advisories/1589.\nhttp\nsee <http://a.b/c>, https://github.com/tj/node-growl/issues/60")
	want := "https://github.com/tj/node-growl/issues/60 https://www.npmjs.com/advisories/1589 http://a.b/c"
	if strings.Join(got, " ") != want {
		t.Errorf("URLs = %q", got)
	}
}

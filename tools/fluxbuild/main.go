// fluxbuild builds a kustomization the way Flux's kustomize-controller does, with the library
// and the kustomize version kustomize-controller v1.9.6 uses: the generator pass over
// kustomization.yaml, a build confined to the source root with plugins disabled, and postBuild
// substitution. It prints the objects as a YAML stream.
//
//	fluxbuild ROOT PATH [NAME=VALUE ...]
//
// ROOT is the source (the git checkout), PATH the Kustomization's spec.path inside it. Each
// NAME=VALUE goes into spec.postBuild.substitute; with any given, substitution is strict, so a
// ${...} in the objects that no variable defines fails the build, as Flux's strict mode does.
// kustomization.yaml files under PATH are rewritten during the build and restored afterwards.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: fluxbuild ROOT PATH [NAME=VALUE ...]")
		os.Exit(2)
	}
	if err := build(os.Args[1], os.Args[2], os.Args[3:]); err != nil {
		fmt.Fprintln(os.Stderr, "fluxbuild:", err)
		os.Exit(1)
	}
}

func build(root, path string, assignments []string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	substitute := map[string]interface{}{}
	for _, assignment := range assignments {
		name, value, ok := strings.Cut(assignment, "=")
		if !ok {
			return fmt.Errorf("%q is not NAME=VALUE", assignment)
		}
		substitute[name] = value
	}
	spec := map[string]interface{}{"path": path, "prune": true}
	if len(substitute) > 0 {
		spec["postBuild"] = map[string]interface{}{"substitute": substitute}
	}
	flux := unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]interface{}{"name": "kfplug", "namespace": "flux-system"},
		"spec":       spec,
	}}

	dir := filepath.Join(root, path)
	action, err := kustomize.NewGenerator(root, flux).WriteFile(dir, kustomize.WithSaveOriginalKustomization())
	if err != nil {
		return fmt.Errorf("generating kustomization.yaml: %w", err)
	}
	defer kustomize.CleanDirectory(dir, action)

	resources, err := kustomize.SecureBuild(root, dir, false)
	if err != nil {
		return fmt.Errorf("kustomize build: %w", err)
	}
	for _, res := range resources.Resources() {
		if len(substitute) > 0 {
			// dry run: variables come from spec.postBuild.substitute only, no cluster is asked
			substituted, err := kustomize.SubstituteVariables(context.Background(), nil, flux, res,
				kustomize.SubstituteWithDryRun(true), kustomize.SubstituteWithStrict(true))
			if err != nil {
				return fmt.Errorf("postBuild substitution in %s: %w", res.CurId(), err)
			}
			if substituted != nil { // nil: the object opted out of substitution
				res = substituted
			}
		}
		text, err := res.AsYAML()
		if err != nil {
			return err
		}
		fmt.Printf("---\n%s", text)
	}
	return nil
}

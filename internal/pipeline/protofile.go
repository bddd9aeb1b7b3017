package pipeline

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

// WriteProto writes one message as a binary protobuf file: the contract
// between stages, readable by Dracon's own components.
func WriteProto(path string, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadLaunch reads a LaunchToolResponse file.
func ReadLaunch(path string) (*v1.LaunchToolResponse, error) {
	m := &v1.LaunchToolResponse{}
	return m, readProto(path, m)
}

// ReadEnriched reads an EnrichedLaunchToolResponse file.
func ReadEnriched(path string) (*v1.EnrichedLaunchToolResponse, error) {
	m := &v1.EnrichedLaunchToolResponse{}
	return m, readProto(path, m)
}

func readProto(path string, m proto.Message) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s: not a %s protobuf file: %w", path, m.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}

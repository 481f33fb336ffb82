// proto/*.proto against the descriptors compiled into crunch-model-runner 0.4.2 (and grpcio-health-
// checking) in .venv-runner: same packages, messages, field numbers and types, enums and methods.
import { spawnSync } from 'node:child_process';
import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { runnerPython } from '../../test/support/tools.js';
import { protoDirectory } from './proto.js';

const PYTHON_SIDE = `
import json
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2
from model_runner.grpc.generated import commons_pb2, dynamic_subclass_pb2

FieldType = descriptor_pb2.FieldDescriptorProto.Type
Label = descriptor_pb2.FieldDescriptorProto.Label
out = {"messages": {}, "enums": {}, "services": {}}

def short(name):
    return name.rsplit(".", 1)[-1]

def walk_message(prefix, message):
    name = prefix + message.name
    out["messages"][name] = sorted(
        [f.name, f.number, FieldType.Name(f.type), Label.Name(f.label), short(f.type_name)] for f in message.field
    )
    for enum in message.enum_type:
        out["enums"][name + "." + enum.name] = sorted([v.name, v.number] for v in enum.value)
    for nested in message.nested_type:
        walk_message(name + ".", nested)

for module in (commons_pb2, dynamic_subclass_pb2, health_pb2):
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    for message in proto.message_type:
        walk_message(proto.package + ".", message)
    for enum in proto.enum_type:
        out["enums"][proto.package + "." + enum.name] = sorted([v.name, v.number] for v in enum.value)
    for service in proto.service:
        out["services"][proto.package + "." + service.name] = sorted(
            [m.name, short(m.input_type), short(m.output_type)] for m in service.method
        )
print(json.dumps(out))
`;

interface Shape {
  messages: Record<string, unknown[]>;
  enums: Record<string, unknown[]>;
  services: Record<string, unknown[]>;
}

interface FieldDescriptor {
  name: string;
  number: number;
  type: string;
  label: string;
  typeName: string;
}

function ourShape(): Shape {
  const definitions = loadSync(['dynamic_subclass.proto', 'health.proto'], {
    includeDirs: [protoDirectory],
    keepCase: true,
  });
  const shape: Shape = { messages: {}, enums: {}, services: {} };
  for (const [name, definition] of Object.entries(definitions)) {
    if (name.startsWith('google.')) continue;
    const entry = definition as {
      format?: string;
      type?: {
        field?: FieldDescriptor[];
        value?: Array<{ name: string; number: number }>;
        enumType?: Array<{ name: string; value: Array<{ name: string; number: number }> }>;
      };
    };
    if (entry.format === 'Protocol Buffer 3 DescriptorProto') {
      shape.messages[name] = (entry.type?.field ?? [])
        .map((f) => [f.name, f.number, f.type, f.label, f.typeName.split('.').pop() ?? ''])
        .sort();
      for (const nested of entry.type?.enumType ?? []) {
        shape.enums[`${name}.${nested.name}`] = nested.value.map((v) => [v.name, v.number]).sort();
      }
    } else if (entry.format === 'Protocol Buffer 3 EnumDescriptorProto') {
      shape.enums[name] = (entry.type?.value ?? []).map((v) => [v.name, v.number]).sort();
    } else {
      const methods = definition as unknown as Record<
        string,
        { originalName?: string; requestType: { type: { name: string } }; responseType: { type: { name: string } } }
      >;
      shape.services[name] = Object.entries(methods)
        .map(([method, m]) => [method, m.requestType.type.name, m.responseType.type.name])
        .sort();
    }
  }
  return shape;
}

describe('proto/ is wire-identical to crunch-model-runner 0.4.2', () => {
  const run = spawnSync(runnerPython(), ['-c', PYTHON_SIDE], { encoding: 'utf8' });
  const theirs = run.status === 0 ? (JSON.parse(run.stdout) as Shape) : null;
  const ours = ourShape();

  it('the Python side describes its descriptors', () => {
    expect(run.stderr).toBe('');
    expect(theirs).not.toBeNull();
  });

  it('has the same messages, fields, numbers and types', () => {
    expect(ours.messages).toEqual(theirs?.messages);
    expect(ours.messages['commons.Variant']).toEqual([
      ['type', 2, 'TYPE_ENUM', 'LABEL_OPTIONAL', 'VariantType'],
      ['value', 3, 'TYPE_BYTES', 'LABEL_OPTIONAL', ''],
    ]);
  });

  it('has the same enums', () => {
    expect(ours.enums).toEqual(theirs?.enums);
  });

  it('has the same services and methods', () => {
    expect(ours.services).toEqual(theirs?.services);
  });
});
